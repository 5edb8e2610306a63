"""rerun_once_if_disconnected: wrapped work skips Django's connection health check (its
re-run on a new connection replaces it; tests/evalhub/rating/test_faults.py drops
connections under it), and runs work that failed on a live connection only once."""

import pytest
from django.db import DataError, connection

from evalhub.reconnect import rerun_once_if_disconnected

pytestmark = pytest.mark.django_db(transaction=True)


@rerun_once_if_disconnected
def _study_count() -> int:
    with connection.cursor() as cursor:  # a Django cursor: where the health check runs
        cursor.execute("SELECT count(*) FROM studies_study")
        return cursor.fetchone()[0]


def test_wrapped_work_sends_no_health_check(monkeypatch):
    _study_count()  # connected
    connection.close_if_unusable_or_obsolete()  # as between two requests
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    assert _study_count() == 0
    assert checks == []


def test_unwrapped_work_still_checks_the_connection(monkeypatch):
    _study_count()
    connection.close_if_unusable_or_obsolete()
    checks = []
    monkeypatch.setattr(connection, "is_usable", lambda: checks.append(1) or True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    assert checks == [1]


def test_a_failed_statement_on_a_live_connection_is_not_run_again():
    calls = []

    @rerun_once_if_disconnected
    def failing() -> None:
        calls.append(1)
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1/0")

    with pytest.raises(DataError):  # division by zero
        failing()
    assert calls == [1]
