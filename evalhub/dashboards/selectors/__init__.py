"""Reads for the dashboards: study results, the global leaderboard, the studies overview."""

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.leaderboard import global_leaderboard
from evalhub.dashboards.selectors.overview import studies_overview
from evalhub.dashboards.selectors.results import (
    compute_study_results,
    headline_results,
    study_results,
)

__all__ = [
    "compute_study_results",
    "global_leaderboard",
    "headline_results",
    "studies_overview",
    "study_results",
    "study_stats_invalidate",
]
