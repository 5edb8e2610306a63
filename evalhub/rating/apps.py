from django.apps import AppConfig
from django.db.backends.signals import connection_created


class RatingConfig(AppConfig):
    name = "evalhub.rating"
    label = "rating"

    def ready(self) -> None:
        from evalhub.studies.pool import connection_configure

        connection_created.connect(connection_configure, dispatch_uid="rating-pool-connection")
