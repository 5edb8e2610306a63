from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "evalhub.dashboards"
    label = "dashboards"

    def ready(self) -> None:
        # Judgment writes bump the per-study stats version, so cached results go stale at once.
        from evalhub.dashboards import signals
        from evalhub.dashboards.dawid_skene_fit import dawid_skene_fit_register
        from evalhub.dashboards.difficulty_fit import difficulty_fit_register
        from evalhub.dashboards.lc_fit import lc_fit_register
        from evalhub.dashboards.one_coin_fit import one_coin_fit_register
        from evalhub.dashboards.style_fit import style_fit_register

        signals.connect()
        difficulty_fit_register()  # the shared fit behind length_controlled_v1
        lc_fit_register()  # the per-study LC GLMs on that difficulty
        style_fit_register()  # the shared fit behind style-controlled Bradley-Terry
        dawid_skene_fit_register()  # the results' Dawid-Skene option
        one_coin_fit_register()  # the raters' spam test and the default aggregate
