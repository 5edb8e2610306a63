from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "evalhub.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        # Judgment writes bump the per-study stats version, so cached results go stale at once.
        from evalhub.dashboards import signals

        signals.connect()
