from django.urls import path

from evalhub.workspace import views

app_name = "workspace"
urlpatterns = [
    path("studies/", views.studies, name="studies"),
    path("prompt-sets/", views.prompt_sets, name="prompt_sets"),
    path("models/", views.models, name="models"),
    path("judges/", views.judges, name="judges"),
]
