from django.urls import path

from evalhub.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("judges/", views.judges_page, name="judges"),
    path("studies/<slug:slug>/", views.study_page, name="study"),
    path("studies/<slug:slug>/data.json", views.study_data, name="study_data"),
    path(
        "studies/<slug:slug>/judgments.<str:fmt>",
        views.study_export,
        name="study_export",
    ),
    path(
        "studies/<slug:slug>/item-labels.<str:fmt>",
        views.study_item_labels,
        name="study_item_labels",
    ),
]
