"""Answers (evalhub.rating.answer) on both rating paths: an expired reservation, a dry pool,
the dashboards they make stale, the per-minute limit; and, on PostgreSQL, answers that race
another write between their read and their write."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evalhub.dashboards.cache import stats_version
from evalhub.rating import answer as answer_module
from evalhub.rating.models import ItemPage, RaterSession
from evalhub.rating.selectors import SessionKey
from evalhub.studies import services as study_services
from evalhub.studies.models import Assignment, Item, Judgment
from evalhub.studies.services import study_close
from tests.evalhub.rating.test_crowd_flow import TOKEN, answer, start

pytestmark = pytest.mark.django_db


def test_an_answer_to_an_expired_reservation_records_nothing_and_moves_on(make_study, monkeypatch):
    monkeypatch.setattr(study_services, "SWEEP_EVERY_SECONDS", 0.0)
    study = make_study(prompts=3, session_quota=3, raters_per_item=1)
    client = Client()
    page = start(client, study)
    session = RaterSession.objects.get()
    first = session.assignment
    Assignment.objects.filter(pk=first.pk).update(expires_at=timezone.now() - timedelta(1))
    response = answer(client, study, page)
    assert response["Location"] == f"/s/{study.crowd_code}/rate/"
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
    assert response["Location"] == f"/s/{study.crowd_code}/done/"
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


def test_bad_answers_count_against_the_limit(make_study, settings):
    settings.RATING_RATE_LIMIT_PER_MINUTE = 2
    study = make_study(prompts=4, session_quota=4)
    client = Client()
    page = start(client, study)
    assert [answer(client, study, page, choice="C").status_code for _ in range(2)] == [400, 400]
    assert answer(client, study, page).status_code == 429
    assert not Judgment.objects.exists()


def test_the_limit_starts_again_each_minute(make_study, settings):
    settings.RATING_RATE_LIMIT_PER_MINUTE = 1
    study = make_study(prompts=4, session_quota=4)
    client = Client()
    page = start(client, study)
    response = answer(client, study, page)
    assert response.status_code == 303
    page = client.get(response["Location"])
    assert answer(client, study, page).status_code == 429
    window = RaterSession.objects.get().limit_window
    RaterSession.objects.update(limit_window=window - 1)  # the last answer, a minute ago
    assert answer(client, study, page).status_code == 303
    assert Judgment.objects.count() == 2


def _between_read_and_write(monkeypatch, action):
    """Run `action` once, after the next answer has read its session and before it writes
    (where the answer sweeps expired reservations): a real write racing the answer."""
    sweep = answer_module.sweep_now_and_then
    pending = [action]

    def sweep_then_race(study_id, now):
        sweep(study_id, now)
        if pending:
            pending.pop()()

    monkeypatch.setattr(answer_module, "sweep_now_and_then", sweep_then_race)


def test_a_double_submit_racing_the_first_counts_once(make_study, monkeypatch):
    study = make_study(prompts=4, session_quota=4)
    client = Client()
    page = start(client, study)
    session = RaterSession.objects.get()
    key = SessionKey.crowd(session.token, study.crowd_code)
    token = TOKEN.search(page.content.decode()).group(1)
    first = []
    _between_read_and_write(
        monkeypatch,
        lambda: first.append(
            answer_module.session_answer(key=key, assignment_token=token, choice="A")
        ),
    )
    second = answer_module.session_answer(key=key, assignment_token=token, choice="B")
    assert first[0].recorded and not second.recorded and not second.finished
    session.refresh_from_db()
    assert session.done == 1 and session.status == "active"
    assert list(Judgment.objects.values_list("raw_choice", flat=True)) == ["A"]
    assert Assignment.objects.filter(status=Assignment.Status.RESERVED).count() == 1
    assert Assignment.objects.get(status=Assignment.Status.RESERVED).pk == session.assignment_id


def test_an_answer_racing_the_study_closing_records_nothing(make_study, monkeypatch):
    study = make_study(prompts=4, session_quota=4)
    client = Client()
    page = start(client, study)
    _between_read_and_write(monkeypatch, lambda: study_close(study=study))
    response = answer(client, study, page)
    assert response.status_code == 303
    assert not Judgment.objects.exists()
    assert not Assignment.objects.filter(status=Assignment.Status.RESERVED).exists()
    assert b"closed" in client.get(response["Location"]).content
