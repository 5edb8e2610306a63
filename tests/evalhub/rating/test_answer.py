"""Answers through the one-statement hot path (evalhub.rating.answer): what it writes when
the reservation expired, when the pool runs dry, and the dashboards it makes stale."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evalhub.dashboards.cache import stats_version
from evalhub.rating.models import ItemPage, RaterSession
from evalhub.studies import pool
from evalhub.studies.models import Assignment, Item, Judgment
from tests.evalhub.rating.test_crowd_flow import answer, start

pytestmark = pytest.mark.django_db


def test_an_answer_to_an_expired_reservation_records_nothing_and_moves_on(make_study, monkeypatch):
    monkeypatch.setattr(pool, "SWEEP_EVERY_SECONDS", 0.0)
    study = make_study(prompts=3, session_quota=3, raters_per_item=1)
    client = Client()
    page = start(client, study)
    session = RaterSession.objects.get()
    first = session.assignment
    Assignment.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(1))
    response = answer(client, study, page)
    assert response["Location"] == f"/s/{study.slug}/rate/"
    session.refresh_from_db()
    assert not Judgment.objects.exists() and session.done == 0
    assert session.assignment_id not in (None, first.pk) and session.status == "active"
    assert Item.objects.get(pk=first.item_id).judgment_count == 0
    # The expired reservation went back to the pool (the web process's sweep).
    assert Assignment.objects.get(pk=first.pk).status == Assignment.Status.EXPIRED
    assert ItemPage.objects.get(pk=first.item_id).taken == 0


def test_the_session_ends_when_the_pool_runs_dry(make_study):
    study = make_study(prompts=2, session_quota=5, raters_per_item=1)
    client = Client()
    page = start(client, study)
    response = answer(client, study, page)
    page = client.get(response["Location"])
    response = answer(client, study, page)
    assert response["Location"] == f"/s/{study.slug}/done/"
    session = RaterSession.objects.get()
    assert (session.status, session.done, session.assignment_id) == ("exhausted", 2, None)
    assert Judgment.objects.count() == 2
    assert list(Item.objects.values_list("judgment_count", flat=True)) == [1, 1]


@pytest.mark.django_db(transaction=True)
def test_an_answer_makes_the_study_dashboards_stale_on_commit(make_study):
    study = make_study(prompts=2, session_quota=2)
    client = Client()
    page = start(client, study)
    before = stats_version(study.pk)
    assert answer(client, study, page).status_code == 303
    assert stats_version(study.pk) > before
