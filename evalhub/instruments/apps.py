from django.apps import AppConfig


class InstrumentsConfig(AppConfig):
    name = "evalhub.instruments"
    label = "instruments"
