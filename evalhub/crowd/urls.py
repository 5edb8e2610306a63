from django.urls import path

from evalhub.crowd import views

app_name = "crowd"
urlpatterns = [
    path("", views.raters_page, name="raters"),
    path("action/", views.raters_action, name="action"),
    path("prolific/", views.prolific_upload, name="prolific"),
]
