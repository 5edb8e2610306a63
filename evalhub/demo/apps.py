from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "evalhub.demo"
    label = "demo"
