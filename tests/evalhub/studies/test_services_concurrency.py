"""Many raters at once against real Postgres: quotas stay exact and nobody repeats."""

import threading
from collections import Counter

import pytest
from django.db import connections

from evalhub.studies import pool
from evalhub.studies.models import Assignment, Item, Judgment, Rater
from tests.evalhub.rating.fixtures import make_study_fixture  # noqa: F401

RATERS = 24
K = 3


@pytest.mark.django_db(transaction=True)
def test_parallel_raters_never_exceed_k_or_judge_an_item_twice(make_study):
    study = make_study(prompts=30, baselines=1, raters_per_item=K)
    raters = [
        Rater.objects.create(group=Rater.Group.CROWD, external_id_hash=f"c{n:063d}")
        for n in range(RATERS)
    ]
    start = threading.Barrier(RATERS)
    errors: list[BaseException] = []

    def work(rater: Rater) -> None:
        try:
            start.wait()
            while True:
                reserved = pool.assignment_reserve(study=study, rater=rater)
                if reserved is None:
                    return
                assignment = Assignment.objects.select_related("item__page").get(pk=reserved.pk)
                pool.judgment_submit(assignment=assignment, rater=rater, study=study, choice="tie")
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(r,)) for r in raters]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    counts = dict(Item.objects.filter(study=study).values_list("id", "judgment_count"))
    judged = Counter(Judgment.objects.filter(item__study=study).values_list("item_id", flat=True))
    assert max(judged.values()) <= K, "an item got more than k judgments"
    assert all(n == K for n in judged.values()) and len(judged) == len(counts) == 30
    assert counts == dict(judged)
    pairs = Counter(Judgment.objects.filter(item__study=study).values_list("item_id", "rater_id"))
    assert max(pairs.values()) == 1, "a rater judged an item twice"
    # The work really was spread over the raters, in parallel.
    assert len({r for _, r in pairs}) >= RATERS // 2
