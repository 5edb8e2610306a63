"""A launched study with simulated raters. Import `crowd_study_fixture` (and
`make_study_fixture`) into a test module or conftest to use it."""

import pytest

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors.crowd_fit import ONE_COIN_KIND
from evalhub.fits.services import shared_fit_refresh
from tests.evalhub.crowd.simulation import simulate

KINDS = {"honest": 12, "random": 4, "left": 4, "fast": 4}


@pytest.fixture(name="crowd_study")
def crowd_study_fixture(make_study):
    """A launched pairwise study "crowd" of 100 items with 24 simulated raters (60
    judgments each): returns (study, {kind: rater ids}). Bulk-loaded, so its one-coin fit
    is made here, as a bench warms it (the worker's path: tests/evalhub/dashboards/
    test_one_coin_fit.py)."""
    study = make_study(prompts=100, raters_per_item=3, slug="crowd")
    made = simulate(study, KINDS, per_rater=60)
    crowd_fit_land(study)
    return study, made


def crowd_fit_land(study) -> None:
    """Compute the study's one-coin fit for its current data in this process (no job)."""
    shared_fit_refresh(kind=ONE_COIN_KIND, inputs={"study": study.pk})
    study_stats_invalidate(study.pk)
