from django.urls import path

from evalhub.jobs import views

app_name = "jobs"
urlpatterns = [
    path("", views.job_list, name="list"),
    path("<int:job_id>/", views.job_detail, name="detail"),
    path("<int:job_id>/status.json", views.job_status, name="status"),
    path("<int:job_id>/cancel/", views.job_cancel_view, name="cancel"),
]
