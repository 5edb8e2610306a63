from django.contrib import admin
from django.urls import include, path

from evalhub import health, views

urlpatterns = [
    # First: the raters' pages are the hot path, and resolving walks the list in order.
    path("", include("evalhub.rating.urls")),
    path("", views.home, name="home"),
    path("healthz", health.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/", include("evalhub.accounts.urls")),
    path("teams/", include("evalhub.teams.urls")),
    path("admin/", admin.site.urls),
    path("jobs/", include("evalhub.jobs.urls")),
    path("generation/", include("generation.urls")),
    path("training/", include("training.urls")),
    path("dashboards/studies/<slug:slug>/raters/", include("evalhub.crowd.urls")),
    path("dashboards/", include("evalhub.dashboards.urls")),
    path("", include("evalhub.releases.urls")),  # before the workspace's studies/<slug>/<action>/
    path("", include("evalhub.workspace.urls")),
    path("instruments/", include("evalhub.instruments.urls")),
    path("live/", include("evalhub.live.urls")),
    path("api/", include("evalhub.api.urls")),
]
