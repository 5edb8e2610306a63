from django.urls import path

from training import views

app_name = "training"
urlpatterns = [
    path("", views.index, name="index"),
    path("datasets/import/", views.dataset_import_view, name="dataset_import"),
    path("datasets/<slug:slug>/", views.dataset_detail, name="dataset_detail"),
    path("recipes/new/", views.recipe_new, name="recipe_new"),
    path("runs/new/", views.run_new, name="run_new"),
    path("runs/<slug:slug>/", views.run_detail, name="run_detail"),
    path("runs/<slug:slug>/live.json", views.run_live, name="run_live"),
    path("runs/<slug:slug>/cancel/", views.run_cancel, name="run_cancel"),
    path("runs/<slug:slug>/select/", views.run_select, name="run_select"),
    path("runs/<slug:slug>/choose/", views.run_choose, name="run_choose"),
    path("runs/<slug:slug>/study/", views.run_study, name="run_study"),
]
