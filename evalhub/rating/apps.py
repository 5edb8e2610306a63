from django.apps import AppConfig


class RatingConfig(AppConfig):
    name = "evalhub.rating"
    label = "rating"
