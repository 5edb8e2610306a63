from django.apps import AppConfig


class CrowdConfig(AppConfig):
    name = "evalhub.crowd"
    label = "crowd"
    verbose_name = "Crowd quality"
