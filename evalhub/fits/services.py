"""Writes for shared fits: ask for one (web), compute one (worker job).

A page calls `shared_fit_use`: it never computes the fit. It finds the fit for the current
fingerprint of its inputs, or queues one `fit` job for that fingerprint (once: the row is
unique per fingerprint) and answers with the last finished fit of the same scope, marked
`updating`. The job computes the fit in a REPEATABLE READ snapshot together with the
fingerprint of what it read, so a result is never stored under data it did not see.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from evalhub.fits.models import SharedFit
from evalhub.fits.registry import FitKind, Inputs, fit_kind
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create
from evalhub.teams.models import Team
from evalhub.teams.services import team_default

log = logging.getLogger(__name__)

JOB_KIND = Job.Kind.FIT.value
# A failed fit is tried again by the next page that needs it, but not more often than this.
RETRY_FAILED_AFTER = dt.timedelta(minutes=10)


@dataclass(frozen=True)
class FitAnswer:
    """What a page may show. `result`: the fit for the current data (`current`), else the
    last finished fit of the same scope, else None. `updating`: a fit for the current data
    is queued or running."""

    result: dict[str, Any] | None
    current: bool
    updating: bool
    finished_at: dt.datetime | None
    fit_id: int | None = None  # the row for the current data (see shared_fit_reject)
    result_id: int | None = None  # the row `result` comes from (the current or the last one)


def _digest(kind: FitKind, inputs: Inputs, data_fingerprint: str) -> str:
    raw = f"{kind.name}\n{kind.scope(inputs)}\n{data_fingerprint}"
    return hashlib.sha256(raw.encode()).hexdigest()


def fit_team(inputs: Inputs) -> Team:
    """The team a fit's job belongs to: the team of the study or prompt set it reads, else
    the default team ("lab", the team the teams migration made) for fits over no one
    team's object."""
    from evalhub.prompts.models import PromptSet
    from evalhub.studies.models import Study

    team_id = None
    if inputs.get("study"):
        team_id = Study.objects.filter(pk=inputs["study"]).values_list("team_id", flat=True).first()
    elif inputs.get("prompt_set"):
        key = inputs["prompt_set"]
        found = PromptSet.objects.filter(**{"pk" if isinstance(key, int) else "slug": key})
        team_id = found.values_list("team_id", flat=True).first()
    if team_id is not None:
        return Team.objects.get(pk=team_id)
    return team_default()


def _queue(fit: SharedFit) -> None:
    job = job_create(
        kind=JOB_KIND, params={"fit_id": fit.pk, "fit_kind": fit.kind}, team=fit_team(fit.inputs)
    )
    SharedFit.objects.filter(pk=fit.pk).update(job=job)


def _fingerprint_of(spec: FitKind, inputs: Inputs, data_fingerprint: str | None) -> str:
    if data_fingerprint is None:
        data_fingerprint = spec.fingerprint(inputs)
    return _digest(spec, inputs, data_fingerprint)


@transaction.atomic
def shared_fit_request(
    *, kind: str, inputs: Inputs, data_fingerprint: str | None = None
) -> SharedFit:
    """The fit row for the inputs' current fingerprint; a new one is queued for a worker.
    A failed or superseded row is queued again (a failed one after RETRY_FAILED_AFTER).
    `data_fingerprint`: the kind's `fingerprint(inputs)` when the caller has it already
    (a page that read the same aggregates for several fits)."""
    spec = fit_kind(kind)
    fingerprint = _fingerprint_of(spec, inputs, data_fingerprint)
    try:
        with transaction.atomic():  # a concurrent request may create the same row
            fit, created = SharedFit.objects.get_or_create(
                kind=kind,
                fingerprint=fingerprint,
                defaults={"scope": spec.scope(inputs), "inputs": inputs},
            )
    except IntegrityError:
        fit, created = SharedFit.objects.get(kind=kind, fingerprint=fingerprint), False
    if created:
        _queue(fit)
        return fit
    retry = SharedFit.objects.filter(pk=fit.pk, status=SharedFit.Status.SUPERSEDED)
    if fit.status == SharedFit.Status.FAILED:
        retry = SharedFit.objects.filter(
            pk=fit.pk,
            status=SharedFit.Status.FAILED,
            finished_at__lt=timezone.now() - RETRY_FAILED_AFTER,
        )
    if fit.status != SharedFit.Status.DONE and retry.update(status=SharedFit.Status.PENDING):
        _queue(fit)  # only the request whose conditional update won queues it
        fit.status = SharedFit.Status.PENDING
    return fit


def shared_fit_refresh(*, kind: str, inputs: Inputs) -> SharedFit:
    """Compute the fit for the inputs' current fingerprint in this process (no job), unless
    it is already done: for commands and benches that warm fits after a bulk load."""
    spec = fit_kind(kind)
    fingerprint = _digest(spec, inputs, spec.fingerprint(inputs))
    fit, _ = SharedFit.objects.get_or_create(
        kind=kind, fingerprint=fingerprint, defaults={"scope": spec.scope(inputs), "inputs": inputs}
    )
    if fit.status != SharedFit.Status.DONE:
        fit = shared_fit_compute(fit_id=fit.pk) or fit
    fit.refresh_from_db()
    return fit


def shared_fit_use(*, kind: str, inputs: Inputs, data_fingerprint: str | None = None) -> FitAnswer:
    """For a page: the current fit, or the last one of its scope while the current is
    being fitted (see module docstring). Costs a fingerprint and one or two indexed reads."""
    fit = shared_fit_request(kind=kind, inputs=inputs, data_fingerprint=data_fingerprint)
    return _answer(fit, kind=kind, scope=fit.scope)


def shared_fit_peek(*, kind: str, inputs: Inputs, data_fingerprint: str | None = None) -> FitAnswer:
    """shared_fit_use without its writes: nothing is created or queued (for a fit that reads
    another fit, in a worker's snapshot). No row for the current data: not `updating`."""
    spec = fit_kind(kind)
    fit = SharedFit.objects.filter(
        kind=kind, fingerprint=_fingerprint_of(spec, inputs, data_fingerprint)
    ).first()
    return _answer(fit, kind=kind, scope=spec.scope(inputs))


def _answer(fit: SharedFit | None, *, kind: str, scope: str) -> FitAnswer:
    if fit is not None and fit.status == SharedFit.Status.DONE:
        return FitAnswer(fit.result, True, False, fit.finished_at, fit_id=fit.pk, result_id=fit.pk)
    last = (
        SharedFit.objects.filter(kind=kind, scope=scope, status=SharedFit.Status.DONE)
        .order_by("-finished_at")
        .only("result", "finished_at")
        .first()
    )
    updating = fit is not None and fit.status == SharedFit.Status.PENDING
    fit_id = fit.pk if fit is not None else None
    if last is None:
        return FitAnswer(None, current=False, updating=updating, finished_at=None, fit_id=fit_id)
    return FitAnswer(last.result, False, updating, last.finished_at, fit_id=fit_id,
                     result_id=last.pk)  # fmt: skip


def shared_fit_reject(*, fit_id: int, reason: str) -> bool:
    """A page found the done fit `fit_id` unusable for the data it is keyed by (a result
    this code did not make, or an old format): it is fitted again by a worker, once. A
    result this code made twice and a page still rejects is failed instead, and retried
    like any failed fit (RETRY_FAILED_AFTER), so a disagreement never loops. True when a
    job was queued."""
    fit = SharedFit.objects.filter(pk=fit_id, status=SharedFit.Status.DONE).first()
    if fit is None:
        return False
    log.warning("shared fit %s (%s) rejected by its reader: %s", fit.pk, fit.kind, reason)
    done = SharedFit.objects.filter(pk=fit.pk, status=SharedFit.Status.DONE)
    if fit.compute_runs >= 2:
        done.update(status=SharedFit.Status.FAILED, error=reason, finished_at=timezone.now())
        return False
    with transaction.atomic():
        if not done.update(status=SharedFit.Status.PENDING, result=None, error=reason):
            return False  # another request rejected it first and queued the job
        _queue(fit)
    return True


def _store(fit: SharedFit, fingerprint: str, result: dict[str, Any]) -> SharedFit:
    """Write the result under the fingerprint it was computed for."""
    now = timezone.now()
    done = {"status": SharedFit.Status.DONE, "result": result, "error": "", "finished_at": now}
    with transaction.atomic():
        if fingerprint == fit.fingerprint:
            SharedFit.objects.filter(pk=fit.pk).update(**done, compute_runs=F("compute_runs") + 1)
            return fit
        target, _ = SharedFit.objects.get_or_create(
            kind=fit.kind,
            fingerprint=fingerprint,
            defaults={"scope": fit.scope, "inputs": fit.inputs, "job": fit.job},
        )
        SharedFit.objects.filter(pk=target.pk).update(**done, compute_runs=F("compute_runs") + 1)
        SharedFit.objects.filter(pk=fit.pk, status=SharedFit.Status.PENDING).update(
            status=SharedFit.Status.SUPERSEDED, finished_at=now
        )
        return target


def shared_fit_compute(*, fit_id: int) -> SharedFit | None:
    """Compute the fit now (worker side) and store it; None when the row is gone or done."""
    fit = SharedFit.objects.filter(pk=fit_id).first()
    if fit is None or fit.status == SharedFit.Status.DONE:
        return None
    spec = fit_kind(fit.kind)
    outermost = not connection.in_atomic_block  # a worker; callers inside one keep theirs
    try:
        with transaction.atomic():
            if outermost:
                with connection.cursor() as cursor:  # must be the transaction's first statement
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            fingerprint = _digest(spec, fit.inputs, spec.fingerprint(fit.inputs))
            result = spec.compute(fit.inputs)
    except Exception as exc:
        SharedFit.objects.filter(pk=fit.pk).update(
            status=SharedFit.Status.FAILED,
            error=f"{type(exc).__name__}: {exc}"[:5000],
            finished_at=timezone.now(),
        )
        raise
    stored = _store(fit, fingerprint, result)
    if spec.on_done is not None:
        spec.on_done(fit.inputs)
    return stored


def shared_fit_job_run(job: Job) -> dict[str, Any]:
    """The `fit` job's handler: compute the fit its params name."""
    stored = shared_fit_compute(fit_id=int(job.params["fit_id"]))
    if stored is None:
        return {"fit_id": job.params["fit_id"], "computed": False}
    return {"fit_id": stored.pk, "fingerprint": stored.fingerprint, "computed": True}
