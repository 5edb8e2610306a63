"""Fixtures for the rating tests."""

import pytest
from django.db import connection

from evalhub.studies import pool
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.faults import private_redis, web  # noqa: F401 - fault-test fixtures


@pytest.fixture(params=["sql", "orm"])
def rating_path(request, monkeypatch) -> str:
    """Run the test on both implementations of the rating loop: PostgreSQL's prepared
    statements ("sql") and the portable ORM ("orm", what the demo's SQLite runs). On
    another database there is only the ORM one."""
    if request.param == "orm":
        monkeypatch.setattr(pool, "active", lambda: False)
    elif connection.vendor != "postgresql":
        pytest.skip("the SQL rating path runs on PostgreSQL")
    return request.param
