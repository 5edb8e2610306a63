from django.contrib.auth import views as auth_views
from django.urls import path

from evalhub.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("tokens/", views.api_tokens, name="tokens"),
    path("tokens/revoke/", views.api_token_revoke_view, name="token_revoke"),
]
