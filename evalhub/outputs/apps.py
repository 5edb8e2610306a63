from django.apps import AppConfig


class OutputsConfig(AppConfig):
    name = "evalhub.outputs"
    label = "outputs"
