"""The assignment pool's rules (evalhub.studies.pool's statements)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from evalhub.rating.models import ItemPage
from evalhub.studies import pool
from evalhub.studies.models import Assignment, Item, Judgment, Rater
from evalhub.studies.services import JudgmentInputError, assignments_expire
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

pytestmark = pytest.mark.django_db


def rater(n):
    return Rater.objects.get_or_create(
        external_id_hash=f"{n:064d}", defaults={"group": Rater.Group.CROWD}
    )[0]


def submit(study, assignment, choice="A", **kw):
    assignment = Assignment.objects.select_related("item__page").get(pk=assignment.pk)
    return pool.judgment_submit(
        assignment=assignment, rater=assignment.rater, study=study, choice=choice, **kw
    )


def test_every_item_gets_exactly_k_judgments_and_no_rater_repeats(make_study):
    study = make_study(prompts=3, raters_per_item=2)
    raters = [rater(n) for n in range(5)]
    seen = set()
    while True:
        progressed = False
        for r in raters:
            a = pool.assignment_reserve(study=study, rater=r)
            if a is None:
                continue
            assert (a.item_id, r.pk) not in seen
            seen.add((a.item_id, r.pk))
            assert submit(study, a) is not None
            progressed = True
        if not progressed:
            break
    counts = list(Item.objects.filter(study=study).values_list("judgment_count", flat=True))
    assert counts == [2, 2, 2]
    assert Judgment.objects.filter(item__study=study).count() == 6


def test_items_with_judgments_are_served_first(make_study):
    study = make_study(prompts=4, raters_per_item=3)
    first = pool.assignment_reserve(study=study, rater=rater(1))
    submit(study, first)
    assert pool.assignment_reserve(study=study, rater=rater(2)).item_id == first.item_id


def test_sides_alternate_across_an_items_raters(make_study):
    study = make_study(prompts=1, raters_per_item=4)
    sides = [pool.assignment_reserve(study=study, rater=rater(n)).target_side for n in range(4)]
    assert sorted(sides) == ["A", "A", "B", "B"]
    assert sides[0] != sides[1]


def test_a_full_item_is_not_reserved_even_when_reservations_are_pending(make_study):
    study = make_study(prompts=1, raters_per_item=2)
    assert pool.assignment_reserve(study=study, rater=rater(1))
    assert pool.assignment_reserve(study=study, rater=rater(2))
    assert pool.assignment_reserve(study=study, rater=rater(3)) is None


def test_an_expired_reservation_goes_back_to_the_pool(make_study):
    study = make_study(prompts=1, raters_per_item=1)
    held = pool.assignment_reserve(study=study, rater=rater(1))
    assert pool.assignment_reserve(study=study, rater=rater(2)) is None
    later = timezone.now() + timedelta(seconds=study.reservation_seconds + 1)
    assert assignments_expire(study=study, now=later) == 1
    held.refresh_from_db()
    assert held.status == Assignment.Status.EXPIRED
    assert ItemPage.objects.get(pk=held.item_id).taken == 0
    again = pool.assignment_reserve(study=study, rater=rater(2), now=later)
    assert again is not None and again.item_id == held.item_id
    # The late answer to the expired reservation is refused.
    assert submit(study, held) is None
    assert submit(study, again) is not None
    assert Item.objects.get(pk=held.item_id).judgment_count == 1


def test_a_double_submit_counts_once(make_study):
    study = make_study(prompts=1, raters_per_item=3)
    a = pool.assignment_reserve(study=study, rater=rater(1))
    assert submit(study, a) is not None
    assert submit(study, a) is None
    assert Item.objects.get(pk=a.item_id).judgment_count == 1


def test_only_the_assignments_rater_can_submit(make_study):
    study = make_study(prompts=1)
    a = Assignment.objects.select_related("item__page").get(
        pk=pool.assignment_reserve(study=study, rater=rater(1)).pk
    )
    intruder = rater(2)
    assert pool.judgment_submit(assignment=a, rater=intruder, study=study, choice="A") is None
    assert not Judgment.objects.exists()


def test_the_verdict_follows_the_side_the_target_was_shown_on(make_study):
    study = make_study(prompts=1, raters_per_item=2)
    one, two = (pool.assignment_reserve(study=study, rater=rater(n)) for n in (1, 2))
    for a in (one, two):
        j = submit(study, a, choice="A")
        if a.target_side == "A":
            assert (j.verdict, j.order) == ("target", "target_first")
        else:
            assert (j.verdict, j.order) == ("baseline", "baseline_first")
        assert j.raw_choice == "A"


def test_a_bad_choice_writes_nothing(make_study):
    study = make_study(prompts=1)
    a = pool.assignment_reserve(study=study, rater=rater(1))
    with pytest.raises(JudgmentInputError, match="choice"):
        submit(study, a, choice="C")
    a.refresh_from_db()
    assert a.status == Assignment.Status.RESERVED and not Judgment.objects.exists()


def test_too_fast_answers_are_flagged_not_refused(make_study):
    study = make_study(prompts=2, raters_per_item=1)
    fast = submit(study, pool.assignment_reserve(study=study, rater=rater(1)), time_on_task_ms=400)
    slow = submit(
        study, pool.assignment_reserve(study=study, rater=rater(1)), time_on_task_ms=60_000
    )
    assert fast.too_fast and not slow.too_fast


def test_gold_items_are_kept_apart(make_study):
    study = make_study(prompts=4, attention_check_rate=0.25, raters_per_item=1)
    a = pool.assignment_reserve(study=study, rater=rater(1), gold=True)
    assert a.item.is_gold
    j = submit(study, a, choice="A" if a.target_side == "A" else "B")
    assert j.is_attention_check and j.verdict == "target"
    # Gold items never use up the real pool.
    assert ItemPage.objects.filter(study=study, is_gold=False, taken__gt=0).count() == 0
