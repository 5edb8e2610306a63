"""The shared-fit store through the registration API, with a kind registered here: one row
and one job per fingerprint, results stored under the data they were computed on."""

from __future__ import annotations

import pytest

from evalhub.fits.models import SharedFit
from evalhub.fits.registry import FitKind, fit_kind, fit_kind_register
from evalhub.fits.services import (
    shared_fit_compute,
    shared_fit_peek,
    shared_fit_refresh,
    shared_fit_reject,
    shared_fit_request,
    shared_fit_use,
)
from evalhub.jobs.models import Job
from evalhub.prompts.models import PromptSet

pytestmark = pytest.mark.django_db

# The "data" of this kind: the prompt sets whose slug starts with the inputs' prefix.
computed: list[dict] = []


def _data(inputs: dict) -> list[str]:
    return sorted(PromptSet.objects.filter(slug__startswith=inputs["prefix"])
                  .values_list("slug", flat=True))  # fmt: skip


def _compute(inputs: dict) -> dict:
    if inputs["prefix"] == "broken":
        raise ValueError("no data for broken")
    computed.append(inputs)
    return {"slugs": _data(inputs)}


fit_kind_register(FitKind(name="slug_list", scope=lambda i: f"prefix={i['prefix']}",
                          fingerprint=lambda i: ",".join(_data(i)), compute=_compute))  # fmt: skip


def test_a_fingerprint_gets_one_row_and_one_job():
    PromptSet.objects.create(slug="a-1", name="a")
    first = shared_fit_request(kind="slug_list", inputs={"prefix": "a-"})
    again = shared_fit_request(kind="slug_list", inputs={"prefix": "a-"})
    assert first.pk == again.pk and first.status == SharedFit.Status.PENDING
    assert Job.objects.filter(kind="fit").count() == 1


def test_pages_get_the_last_fit_marked_updating_until_the_new_one_is_done():
    PromptSet.objects.create(slug="b-1", name="b")
    done = shared_fit_refresh(kind="slug_list", inputs={"prefix": "b-"})
    assert done.status == SharedFit.Status.DONE and done.result == {"slugs": ["b-1"]}
    PromptSet.objects.create(slug="b-2", name="b")
    answer = shared_fit_use(kind="slug_list", inputs={"prefix": "b-"})
    assert answer.result == {"slugs": ["b-1"]}
    assert answer.updating and not answer.current
    pending = SharedFit.objects.get(kind="slug_list", status=SharedFit.Status.PENDING)
    shared_fit_compute(fit_id=pending.pk)
    answer = shared_fit_use(kind="slug_list", inputs={"prefix": "b-"})
    assert answer.result == {"slugs": ["b-1", "b-2"]} and answer.current and not answer.updating


def test_data_that_moved_while_fitting_is_stored_under_its_own_fingerprint():
    PromptSet.objects.create(slug="c-1", name="c")
    asked = shared_fit_request(kind="slug_list", inputs={"prefix": "c-"})
    PromptSet.objects.create(slug="c-2", name="c")
    stored = shared_fit_compute(fit_id=asked.pk)
    asked.refresh_from_db()
    assert asked.status == SharedFit.Status.SUPERSEDED and asked.result is None
    assert stored.pk != asked.pk
    stored.refresh_from_db()
    assert stored.result == {"slugs": ["c-1", "c-2"]}
    assert shared_fit_use(kind="slug_list", inputs={"prefix": "c-"}).current


def test_a_failed_fit_keeps_its_error_and_is_not_retried_at_once():
    fit = shared_fit_request(kind="slug_list", inputs={"prefix": "broken"})
    with pytest.raises(ValueError, match="no data for broken"):
        shared_fit_compute(fit_id=fit.pk)
    fit.refresh_from_db()
    assert fit.status == SharedFit.Status.FAILED and "no data for broken" in fit.error
    answer = shared_fit_use(kind="slug_list", inputs={"prefix": "broken"})
    assert answer.result is None and not answer.updating
    assert Job.objects.filter(kind="fit").count() == 1


def test_a_peek_creates_and_queues_nothing_and_names_the_row_it_answers_from():
    PromptSet.objects.create(slug="p-1", name="p")
    assert shared_fit_peek(kind="slug_list", inputs={"prefix": "p-"}).result is None
    assert not SharedFit.objects.filter(kind="slug_list", scope="prefix=p-").exists()
    done = shared_fit_refresh(kind="slug_list", inputs={"prefix": "p-"})
    PromptSet.objects.create(slug="p-2", name="p")
    peeked = shared_fit_peek(kind="slug_list", inputs={"prefix": "p-"})
    assert peeked.result == {"slugs": ["p-1"]} and peeked.result_id == done.pk
    assert not peeked.current and not peeked.updating  # nobody asked for the new data yet
    # A caller that has the data fingerprint already passes it: the same row.
    used = shared_fit_use(kind="slug_list", inputs={"prefix": "p-"}, data_fingerprint="p-1,p-2")
    assert used.updating and used.result_id == done.pk
    again = shared_fit_peek(kind="slug_list", inputs={"prefix": "p-"})
    assert again.fit_id == used.fit_id and again.updating
    assert Job.objects.filter(kind="fit").count() == 1


def test_an_unknown_kind_is_named():
    with pytest.raises(LookupError, match="no shared fit kind 'nope'"):
        fit_kind("nope")


def test_a_rejected_result_is_fitted_again_once_then_failed():
    PromptSet.objects.create(slug="d-1", name="d")
    done = shared_fit_refresh(kind="slug_list", inputs={"prefix": "d-"})
    jobs = Job.objects.filter(kind="fit").count()
    # A page found the stored result unusable: it is queued again (one job), not shown.
    assert shared_fit_reject(fit_id=done.pk, reason="not my data")
    assert not shared_fit_reject(fit_id=done.pk, reason="not my data")  # already pending
    assert Job.objects.filter(kind="fit").count() == jobs + 1
    done.refresh_from_db()
    assert done.status == SharedFit.Status.PENDING and done.result is None
    assert shared_fit_use(kind="slug_list", inputs={"prefix": "d-"}).updating
    shared_fit_compute(fit_id=done.pk)
    done.refresh_from_db()
    assert done.status == SharedFit.Status.DONE and done.compute_runs == 2
    # Rejected again after this code made it twice: failed, no loop of jobs.
    assert not shared_fit_reject(fit_id=done.pk, reason="still not my data")
    done.refresh_from_db()
    assert done.status == SharedFit.Status.FAILED and done.error == "still not my data"
    assert Job.objects.filter(kind="fit").count() == jobs + 1
