"""Fixtures of the crowd-quality tests: launched studies (make_study) and simulated raters."""

from tests.evalhub.crowd.fixtures import crowd_study_fixture  # noqa: F401
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
