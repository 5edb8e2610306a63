"""Fixtures for the rating tests."""

from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.faults import private_redis, web  # noqa: F401 - fault-test fixtures
