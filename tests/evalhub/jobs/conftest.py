"""Fixtures for the job tests."""

from tests.faults import private_redis, web  # noqa: F401 - fault-test fixtures
