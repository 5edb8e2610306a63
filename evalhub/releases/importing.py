"""Import a release (from this or another EvalHub) as a new, closed study whose results are
the release's: a reviewer reproduces the published figures on their own installation.

Started from the workspace or the API, it runs as a job on an uploaded archive. Everything is
checked first (evalhub.releases.import_checks: layout, checksums, every column of every
file); then everything is written in one transaction, so a bad release writes nothing.
Rows are created in the release's order (which is the original id order), so clustered
bootstrap intervals, which draw prompts in id order with a fixed seed, come out the same."""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import uuid
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from evalhub.crowd.models import RaterExclusion
from evalhub.instruments.models import Instrument
from evalhub.instruments.selectors import team_instruments
from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.outputs.models import Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.outputs.services import model_register
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.releases.import_checks import (
    COLUMNS,
    INSTRUMENT_TEXT,
    ReleaseImportError,
    archive_check,
    folder_check,
    import_error,
    tables_check,
)
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study
from evalhub.teams.models import Team

SLUG = re.compile(r"[-a-zA-Z0-9_]+")
# The steps a job reports: checksums, each file's checks, writing.
IMPORT_STEPS = 2 + len(COLUMNS)


def release_import_start(*, team: Team, archive: UploadedFile, slug: str, by: Any = None) -> Job:
    """Keep an uploaded release archive on disk and queue the job that imports it as study
    `slug`. The archive's layout and the slug are checked now (ReleaseImportError), the
    rest by the job."""
    slug_check(team, slug)
    folder = Path(settings.UPLOAD_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"release-{uuid.uuid4().hex}.zip"
    with path.open("wb") as out:
        for chunk in archive.chunks():  # streamed: never whole in memory
            out.write(chunk)
    try:
        archive_check(path, archive.name or "archive")
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    params = {"path": str(path), "slug": slug, "filename": archive.name or ""}
    return job_create(kind=Job.Kind.RELEASE_IMPORT, params=params, requested_by=by, team=team)


def release_import_job(job: Job) -> dict[str, Any]:
    """The job handler: import the uploaded archive, then remove it (also when it is refused).
    Safe to run again: a study already imported from this upload is the result."""
    params = job.params
    done = Study.objects.filter(
        team=job.team, slug=params["slug"], config__imported_by_job=job.pk
    ).first()
    if done is None:
        step = 0

        def progress(note: str) -> None:
            nonlocal step
            job_progress(job_id=job.pk, done=step, total=IMPORT_STEPS, note=note)
            step += 1

        try:
            done = release_import(
                team=job.team,
                folder=Path(params["path"]), slug=params["slug"], by=job.requested_by,
                progress=progress, job_id=job.pk,
            )  # fmt: skip
        except ReleaseImportError:  # a bad release stays bad: keep nothing of it
            Path(params["path"]).unlink(missing_ok=True)
            raise
    Path(params["path"]).unlink(missing_ok=True)
    job_progress(job_id=job.pk, done=IMPORT_STEPS, total=IMPORT_STEPS, note="imported")
    return {
        "study": done.slug,
        "items": done.items.count(),
        "judgments": Judgment.objects.filter(item__study=done).count(),
        "url": f"/studies/{done.slug}/",
    }


def _instrument(team: Team, row: dict[str, Any]) -> Instrument:
    """The team's (or a preset's) version with the same content, else a new version of the
    team's."""
    same = (
        team_instruments(team=team)
        .filter(slug=row["slug"], content_hash=row["content_hash"])
        .first()
    )
    if same is not None:
        return same
    taken = team_instruments(team=team).filter(slug=row["slug"]).order_by("-version").first()
    fields = {k: row[k] for k in INSTRUMENT_TEXT}
    return Instrument.objects.create(
        team=team, slug=row["slug"], version=(taken.version + 1) if taken else row["version"],
        choices=json.loads(row["choices"]), content_hash=row["content_hash"], **fields,
    )  # fmt: skip


def release_import(
    *,
    team: Team,
    folder: Path,
    slug: str,
    by: Any = None,
    progress: Callable[[str], None] = lambda _: None,
    job_id: int | None = None,
) -> Study:
    """Make study `slug` (closed) from the release in `folder` (or its zip archive).
    ReleaseImportError, naming the file, row and field, for anything that is not an
    unaltered, loadable release, or a slug already taken; nothing is written then.
    `progress` hears each step; `job_id` is recorded in the study's config."""
    folder = Path(folder)
    slug_check(team, slug)
    if not folder.is_file():
        return _import_folder(team, folder, slug, by, progress, job_id)
    top = archive_check(folder)
    with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(folder) as zf:
        zf.extractall(scratch)  # the entries' names were checked by archive_check
        return _import_folder(team, Path(scratch) / top, slug, by, progress, job_id)


def slug_check(team: Team, slug: str) -> None:
    """ReleaseImportError unless `slug` can name `team`'s new study and its prompt set."""
    if not slug or len(slug) > 100 or not SLUG.fullmatch(slug):
        raise import_error("must be 1 to 100 letters, digits, - or _", field="slug")
    if Study.objects.filter(team=team, slug=slug).exists():
        raise import_error(f"a study {slug!r} exists already", field="slug")
    if PromptSet.objects.filter(team=team, slug=slug).exists():
        raise import_error(f"a prompt set {slug!r} exists already", field="slug")


def _import_folder(
    team: Team,
    folder: Path,
    slug: str,
    by: Any,
    progress: Callable[[str], None],
    job_id: int | None,
) -> Study:
    progress("verifying checksums")
    folder_check(folder)
    tables = tables_check(folder, progress)
    progress("writing the study")
    provenance = {"imported_from_release": folder.name}
    if job_id is not None:
        provenance["imported_by_job"] = job_id
    return _write(team, tables, provenance, slug, by)


@transaction.atomic
def _write(
    team: Team, tables: dict[str, pa.Table], provenance: dict[str, Any], slug: str, by: Any
) -> Study:
    slug_check(team, slug)  # again, inside the transaction that creates it
    rows = {n: t.to_pylist() for n, t in tables.items()}
    config_row = rows["config"][0]
    config = json.loads(config_row["config"])
    prompt_set = PromptSet.objects.create(
        team=team, slug=slug, name=f"{config_row['name']} (imported)"
    )
    prompts = Prompt.objects.bulk_create(
        Prompt(prompt_set=prompt_set, external_id=r["prompt_id"], position=r["position"],
               text=r["text"], context=json.loads(r["context"]), category=r["category"],
               source=r["source"], reference=r["reference"])
        for r in rows["prompts"]
    )  # fmt: skip
    prompt_of = {p.external_id: p for p in prompts}
    output_rows = rows["outputs"]
    models = {
        m: model_register(team=team, slug=m) for m in dict.fromkeys(r["model"] for r in output_rows)
    }
    outputs = Output.objects.bulk_create(
        Output(prompt=prompt_of[r["prompt_id"]], model=models[r["model"]],
               sample_index=r["sample_index"], text=r["text"],
               html=render_untrusted_markdown(r["text"]), turns=json.loads(r["turns"]),
               provenance=json.loads(r["provenance"]))
        for r in output_rows
    )  # fmt: skip
    output_of = {r["output_id"]: o for r, o in zip(output_rows, outputs, strict=True)}
    item_rows = rows["items"]
    real = [r for r in item_rows if not r["is_gold"]] or item_rows
    study = Study.objects.create(
        team=team, slug=slug, name=config_row["name"], kind=config_row["kind"],
        prompt_set=prompt_set,
        target_model=models[real[0]["target_model"]],
        instrument=_instrument(team, rows["instrument"][0]),
        raters_per_item=config.get("raters_per_item", 3),
        attention_check_rate=config.get("attention_checks", {}).get("rate", 0.0),
        inconsistent_pair_policy=config.get("inconsistent_pair_policy") or "tie",
        status=Study.Status.CLOSED, config={**config, **provenance},
        config_hash=config_row["config_hash"], created_by=by,
    )  # fmt: skip
    study.baselines.set([models[m] for m in dict.fromkeys(r["baseline_model"] for r in real) if m])
    items = Item.objects.bulk_create(
        Item(study=study, prompt=prompt_of[r["prompt_id"]],
             target_output=output_of.get(r["target_output_id"]),
             baseline_output=output_of.get(r["baseline_output_id"]), is_gold=r["is_gold"],
             gold_answer=r["gold_answer"] or "")
        for r in item_rows
    )  # fmt: skip
    item_of = {r["item_id"]: i for r, i in zip(item_rows, items, strict=True)}
    _judgments_import(study, rows["judgments"], item_of)
    return study


def _judgments_import(study: Study, rows: list[dict[str, Any]], item_of: dict) -> None:
    groups = {r["rater"]: r["judge_group"] for r in rows if r["rater"]}
    raters = {
        h: Rater.objects.create(
            group=Rater.Group.AUTHOR if g == Rater.Group.AUTHOR else Rater.Group.CROWD,
            external_id_hash=hashlib.sha256(f"release:{study.slug}:{h}".encode()).hexdigest(),
        )
        for h, g in groups.items()
    }
    seen: set[tuple[int, str]] = set()
    assignments: dict[int, Assignment] = {}
    for r in rows:
        key = (r["item_id"], r["rater"])
        if r["rater"] and r["target_side"] and key not in seen:
            seen.add(key)
            at = r["created_at"]
            assignments[r["judgment_id"]] = Assignment(
                item=item_of[r["item_id"]], rater=raters[r["rater"]],
                target_side=r["target_side"], status=Assignment.Status.SUBMITTED,
                reserved_at=at, expires_at=at, submitted_at=at,
            )  # fmt: skip
    Assignment.objects.bulk_create(assignments.values())
    Judgment.objects.bulk_create(
        Judgment(item=item_of[r["item_id"]], rater=raters.get(r["rater"]),
                 assignment=assignments.get(r["judgment_id"]), judge_group=r["judge_group"],
                 order=r["order"], raw_choice=r["raw_choice"] or "", verdict=r["verdict"] or "",
                 score=r["score"], preference=r["preference"],
                 turn_labels=json.loads(r["turn_labels"]) if r["turn_labels"] else [],
                 comment=r.get("comment") or "", time_on_task_ms=r["time_on_task_ms"],
                 too_fast=r["too_fast"], is_attention_check=r["is_attention_check"],
                 raw_response=r["raw_response"] or "", parse_state=r["parse_state"] or "",
                 tokens_in=r["tokens_in"], tokens_out=r["tokens_out"], excluded=r["excluded"],
                 imported_from=f"release:{study.slug}")
        for r in rows
    )  # fmt: skip
    reasons: dict[str, tuple[str, int]] = {}
    for r in rows:
        if r["excluded"] and r["rater"]:
            reason, n = reasons.get(r["rater"], (r["exclusion_reason"] or "", 0))
            reasons[r["rater"]] = (reason, n + 1)
    RaterExclusion.objects.bulk_create(
        RaterExclusion(study=study, rater=raters[h], action=RaterExclusion.Action.EXCLUDE,
                       reason=reason or "excluded in the release", judgments=n)
        for h, (reason, n) in reasons.items()
    )  # fmt: skip
