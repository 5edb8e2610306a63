from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "evalhub.releases"
    label = "releases"
    verbose_name = "Releases"
