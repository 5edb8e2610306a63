from django.urls import path

from evalhub.workspace import data_views, edit_views, live_views, views

app_name = "workspace"
urlpatterns = [
    path("studies/", views.studies, name="studies"),
    path("studies/new/", views.study_new, name="study_new"),
    path("studies/new/plan.json", views.study_new_plan, name="study_new_plan"),
    path("studies/new/live/", live_views.live_study_new, name="live_study_new"),
    path("studies/<slug:slug>/", views.study_detail, name="study"),
    path("studies/<slug:slug>/monitor.json", views.study_monitor, name="study_monitor"),
    path("studies/<slug:slug>/results.json", views.study_results_export, name="study_results"),
    path("studies/<slug:slug>/preview/", views.study_preview, name="study_preview"),
    path(
        "studies/<slug:slug>/live-preview/",
        live_views.live_study_preview,
        name="live_study_preview",
    ),
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
    path("studies/<slug:slug>/items/", data_views.study_items, name="study_items"),
    path("studies/<slug:slug>/items/<int:item_id>/", data_views.item_detail, name="item"),
    path("studies/<slug:slug>/judgments/", data_views.study_judgments, name="study_judgments"),
    path("studies/<slug:slug>/counted/", data_views.study_counted, name="study_counted"),
    path("studies/<slug:slug>/edit/", edit_views.study_edit, name="study_edit"),
    path("studies/<slug:slug>/settings/", edit_views.study_settings, name="study_settings"),
    path("studies/<slug:slug>/delete/", edit_views.study_delete, name="study_delete"),
    path("studies/<slug:slug>/<str:action>/", views.study_transition, name="study_transition"),
    path("prompt-sets/", views.prompt_sets, name="prompt_sets"),
    path("prompt-sets/<slug:slug>/", data_views.prompt_set_detail, name="prompt_set"),
    path("prompt-sets/<slug:slug>/edit/", edit_views.prompt_set_edit, name="prompt_set_edit"),
    path("prompt-sets/<slug:slug>/delete/", edit_views.prompt_set_delete, name="prompt_set_delete"),
    path(
        "prompt-sets/<slug:slug>/prompts/<int:prompt_id>/",
        data_views.prompt_detail,
        name="prompt",
    ),
    path("uploads/", views.upload, name="upload"),
    path("uploads/<str:token>/import/", views.upload_import, name="upload_import"),
    path("models/", views.models, name="models"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("models/<slug:slug>/outputs/", data_views.model_outputs, name="model_outputs"),
    path("models/<slug:slug>/edit/", edit_views.model_edit, name="model_edit"),
    path("models/<slug:slug>/delete/", edit_views.model_delete, name="model_delete"),
    path(
        "models/<slug:slug>/outputs/<slug:prompt_set>/replace/",
        edit_views.model_outputs_replace,
        name="model_outputs_replace",
    ),
    path("models/<slug:slug>/outputs/<int:output_id>/", data_views.output_detail, name="output"),
    path("judges/", views.judges, name="judges"),
    path("judges/<slug:slug>/", data_views.judge_detail, name="judge"),
    path("history/", edit_views.history, name="history"),
]
