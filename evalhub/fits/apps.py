from django.apps import AppConfig


class FitsConfig(AppConfig):
    name = "evalhub.fits"
    label = "fits"
