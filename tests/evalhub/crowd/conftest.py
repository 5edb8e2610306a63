"""Fixtures of the crowd-quality tests: launched studies (make_study) and simulated raters."""

import pytest

from tests.evalhub.crowd.simulation import simulate
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

KINDS = {"honest": 12, "random": 4, "left": 4, "fast": 4}


@pytest.fixture
def crowd_study(make_study):
    """A launched pairwise study of 100 items with 24 simulated raters (60 judgments each):
    returns (study, {kind: rater ids})."""
    study = make_study(prompts=100, raters_per_item=3, slug="crowd")
    return study, simulate(study, KINDS, per_rater=60)
