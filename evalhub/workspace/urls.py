from django.urls import path

from evalhub.workspace import views

app_name = "workspace"
urlpatterns = [
    path("studies/", views.studies, name="studies"),
    path("studies/new/", views.study_new, name="study_new"),
    path("studies/new/plan.json", views.study_new_plan, name="study_new_plan"),
    path("studies/<slug:slug>/", views.study_detail, name="study"),
    path("studies/<slug:slug>/monitor.json", views.study_monitor, name="study_monitor"),
    path("studies/<slug:slug>/results.json", views.study_results_export, name="study_results"),
    path("studies/<slug:slug>/preview/", views.study_preview, name="study_preview"),
    path(
        "studies/<slug:slug>/preview/<str:step>/",
        views.study_preview,
        name="study_preview_step",
    ),
    path(
        "studies/<slug:slug>/judge-estimate.json",
        views.study_judge_estimate,
        name="study_judge_estimate",
    ),
    path("studies/<slug:slug>/judge-runs/", views.study_judge_run, name="study_judge_run"),
    path("studies/<slug:slug>/<str:action>/", views.study_transition, name="study_transition"),
    path("prompt-sets/", views.prompt_sets, name="prompt_sets"),
    path("uploads/", views.upload, name="upload"),
    path("uploads/<str:token>/import/", views.upload_import, name="upload_import"),
    path("models/", views.models, name="models"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("judges/", views.judges, name="judges"),
]
