from django.urls import path

from evalhub.crowd import quality_views, views

app_name = "crowd"
urlpatterns = [
    path("", views.raters_page, name="raters"),
    path("action/", views.raters_action, name="action"),
    path("prolific/", views.prolific_upload, name="prolific"),
    path("rules/", quality_views.rules_save, name="rules"),
    path("gold/", quality_views.gold_save, name="gold"),
]
