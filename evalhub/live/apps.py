from django.apps import AppConfig


class LiveConfig(AppConfig):
    name = "evalhub.live"
    label = "live"
    verbose_name = "Live studies"
