"""A launched study with simulated raters. Import `crowd_study_fixture` (and
`make_study_fixture`) into a test module or conftest to use it."""

import pytest

from tests.evalhub.crowd.simulation import simulate

KINDS = {"honest": 12, "random": 4, "left": 4, "fast": 4}


@pytest.fixture(name="crowd_study")
def crowd_study_fixture(make_study):
    """A launched pairwise study "crowd" of 100 items with 24 simulated raters (60
    judgments each): returns (study, {kind: rater ids})."""
    study = make_study(prompts=100, raters_per_item=3, slug="crowd")
    return study, simulate(study, KINDS, per_rater=60)
