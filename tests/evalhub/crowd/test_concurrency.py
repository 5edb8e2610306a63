"""Exclusion while raters answer: every item ends with exactly k
valid judgments, none over quota, and no rater judges an item twice."""

import threading
from collections import Counter

import pytest
from django.db import connections

from evalhub.crowd.services import raters_exclude
from evalhub.rating import answer
from evalhub.rating.models import ItemPage, RaterSession
from evalhub.rating.selectors import SessionKey
from evalhub.rating.services import session_consent, session_start_crowd
from evalhub.studies.models import Assignment, Item, Judgment
from tests.support import wait_until

K = 3
RATERS = 30
EXCLUDED = 5


def _rate(
    study, participant: str, limit: int | None = None, pause: threading.Event | None = None
) -> RaterSession:
    """Answer as `participant` until the session ends (or `limit` answers); with `pause`,
    wait for it after the first answer."""
    session = session_consent(session=session_start_crowd(study=study, participant_id=participant))
    key = SessionKey.crowd(session.token, study.crowd_code)
    answered = 0
    while limit is None or answered < limit:
        if answered == 1 and pause is not None:
            assert pause.wait(300), "the exclusion never came"
        live = RaterSession.objects.get(pk=session.pk)
        if live.is_finished:
            break
        answer.session_answer(key=key, assignment_token=live.assignment_token, choice="A")
        answered += 1
    return session


@pytest.mark.django_db(transaction=True)
def test_excluding_raters_while_others_answer_refills_every_item_to_exactly_k(make_study):
    study = make_study(prompts=60, raters_per_item=K, session_quota=60, slug="busy")
    early = [_rate(study, f"early{n}", limit=8) for n in range(EXCLUDED)]
    excluded_ids = [s.rater_id for s in early]
    judged_early = Judgment.objects.filter(rater_id__in=excluded_ids)
    assert judged_early.count() == 40 and judged_early.values("item_id").distinct().count() >= 8
    assert all(not RaterSession.objects.get(pk=s.pk).is_finished for s in early)

    start = threading.Barrier(RATERS + 1)
    excluded = threading.Event()
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            # Half answer straight on, racing the exclusion; the other half wait for it after
            # one answer, so that raters are still there to refill the freed places however
            # fast (or slow, on a busy machine) the first half finish.
            _rate(study, f"busy{n}", pause=excluded if n % 2 else None)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(RATERS)]
    for t in threads:
        t.start()
    start.wait()
    # Exclude once the others are well under way.
    others = Judgment.objects.filter(item__study=study).exclude(rater_id__in=excluded_ids)
    try:
        wait_until(lambda: others.count() >= 30, timeout=120, interval=0.02)
        outcome = raters_exclude(study=study, rater_ids=excluded_ids, reason="bots")
    finally:
        excluded.set()
    assert sorted(outcome.raters) == sorted(excluded_ids) and outcome.judgments == 40
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors

    valid = Counter(
        Judgment.objects.filter(item__study=study, excluded=False).values_list("item_id", flat=True)
    )
    real = list(Item.objects.filter(study=study, is_gold=False).values_list("id", flat=True))
    assert {i: valid[i] for i in real} == dict.fromkeys(real, K), "every item exactly k valid"
    pairs = Counter(Judgment.objects.filter(item__study=study).values_list("item_id", "rater_id"))
    assert max(pairs.values()) == 1, "a rater judged an item twice"
    assert Judgment.objects.filter(excluded=True).count() == 40
    # The excluded raters' sessions ended and gave their reservations back.
    assert set(
        RaterSession.objects.filter(rater_id__in=excluded_ids).values_list("status", flat=True)
    ) == {RaterSession.Status.EXCLUDED}
    assert not Assignment.objects.filter(
        rater_id__in=excluded_ids, status=Assignment.Status.RESERVED
    ).exists()
    # The pool's counts agree: k per item, nothing reserved.
    assert set(
        ItemPage.objects.filter(study=study, is_gold=False).values_list("taken", flat=True)
    ) == {K}
    assert len({r for _, r in pairs}) > RATERS // 2
