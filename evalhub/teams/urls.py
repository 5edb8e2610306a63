from django.urls import path

from evalhub.teams import views

app_name = "teams"
urlpatterns = [
    path("", views.team, name="team"),
    path("invite/", views.invite, name="invite"),
    path("members/role/", views.member_role, name="member_role"),
    path("members/remove/", views.member_remove, name="member_remove"),
    path("tokens/revoke/", views.token_revoke, name="token_revoke"),
    path("switch/", views.switch, name="switch"),
    path("join/<str:token>/", views.join, name="join"),
]
