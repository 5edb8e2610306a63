from django.urls import path

from evalhub.releases import views

app_name = "releases"
urlpatterns = [
    path("releases/import/", views.release_import, name="import"),
    path("studies/<slug:slug>/releases/", views.study_releases, name="study"),
    path(
        "studies/<slug:slug>/releases/v<int:version>/download/",
        views.release_download,
        name="download",
    ),
    path("studies/<slug:slug>/releases/v<int:version>/README.md", views.release_card, name="card"),
]
