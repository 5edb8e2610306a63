from django.apps import AppConfig


class StudiesConfig(AppConfig):
    name = "evalhub.studies"
    label = "studies"
