"""PostgreSQL's prepared statements (evalhub.studies.pool.execute): planned once per
connection, as the index lookups they are even when the study was launched on empty tables.
(A plan is made again after an ANALYZE of its tables, from their new statistics.)"""

import pytest
from django.db import connection
from django.test import Client

from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401
from tests.evalhub.rating.test_crowd_flow import answer, start

pytestmark = pytest.mark.django_db


def _plans() -> dict[str, str]:
    """This connection's prepared statements and their generic plans."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, statement, cardinality(parameter_types), generic_plans, custom_plans "
            "FROM pg_prepared_statements"
        )
        rows = cursor.fetchall()
        plans = {}
        for name, statement, params, generic, custom in rows:
            assert custom == 0 and generic > 0, statement  # planned once, then kept
            cursor.execute(f"EXPLAIN EXECUTE {name}({', '.join(['NULL'] * params)})")
            plans[statement] = "\n".join(line for (line,) in cursor.fetchall())
    return plans


@pytest.mark.django_db(transaction=True)
def test_the_rating_loop_runs_index_lookups_planned_once_even_on_a_new_study(make_study):
    study = make_study(prompts=6, session_quota=3)
    with connection.cursor() as cursor:  # statistics of empty rating tables, as at launch
        cursor.execute(
            "ANALYZE rating_ratersession, studies_assignment, studies_judgment, studies_rater"
        )
    connection.close()  # the web process connects after the launch
    client = Client()
    page = start(client, study)
    for _ in range(2):
        page = client.get(answer(client, study, page)["Location"])
    plans = _plans()
    assert len(plans) >= 8  # entry, session, consent, resume, reserve, page, read, answer
    for statement, plan in plans.items():
        assert "Seq Scan" not in plan, f"{statement}\n{plan}"
