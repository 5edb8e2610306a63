"""Writes for releases: ask for one (a job), build it (the job's handler), push it to a hub.

A release is numbered when asked for, under a lock on the study row, so two researchers
publishing at once get v1 and v2. Building reads only the database and the previous
version's own files, writes into a scratch folder, and renames it into place at the end."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_create, job_progress
from evalhub.releases import files
from evalhub.releases.card import CardFacts, dataset_card
from evalhub.releases.changes import release_changes
from evalhub.releases.hub import ReleasePushError, hub_configured, release_push
from evalhub.releases.models import Release
from evalhub.releases.tables import ReleaseOptions, published_config, release_tables
from evalhub.studies.models import Study

log = logging.getLogger(__name__)

LICENSES = ("cc-by-4.0", "cc-by-sa-4.0", "cc-by-nc-4.0", "cc0-1.0", "odc-by", "other")
STEPS = ("prompts", "outputs", "items", "judgments", "item aggregate", "card", "archive")


class ReleaseStateError(ValueError):
    """The study cannot be published as it is (not closed)."""


@transaction.atomic
def release_publish(
    *,
    study: Study,
    by: Any = None,
    license: str = "cc-by-4.0",
    include_comments: bool = False,
    withhold_model_names: bool = False,
    hub_repo: str = "",
) -> Release:
    """Number a new version of `study`'s release and queue the job that builds it (and then
    pushes it to dataset repo `hub_repo` on the configured hub, if given).
    ReleaseStateError unless the study is closed; ValueError for an unknown license, or a
    hub_repo where no hub is configured."""
    study = Study.objects.select_for_update().get(pk=study.pk)
    if study.status != Study.Status.CLOSED:
        raise ReleaseStateError(
            f"study {study.slug} is {study.status}: close it before publishing it"
        )
    if license not in LICENSES:
        raise ValueError(f"license: {license!r} is not one of {', '.join(LICENSES)}")
    if hub_repo and not hub_configured():
        raise ReleasePushError("hub_repo: no hub is configured (set HF_TOKEN)")
    last = Release.objects.filter(study=study).aggregate(v=Max("version"))["v"] or 0
    release = Release.objects.create(
        study=study, version=last + 1, license=license, include_comments=include_comments,
        withhold_model_names=withhold_model_names, created_by=by,
    )  # fmt: skip
    release.job = job_create(
        team=study.team,
        kind=Job.Kind.RELEASE,
        params={
            "release_id": release.pk,
            "study": study.slug,
            "version": release.version,
            "hub_repo": hub_repo,
        },
        requested_by=by,
    )
    release.save(update_fields=["job"])
    return release


def release_build_job(job: Job) -> dict[str, Any]:
    """The job handler: build the release named in the job's params (idempotent: a ready
    release is left as it is; a re-dispatched job starts again in a fresh scratch folder)."""
    release = Release.objects.select_related("study").get(pk=job.params["release_id"])
    if release.status != Release.Status.READY:
        try:
            release_build(release=release, job_id=job.pk)
        except Exception as exc:
            Release.objects.filter(pk=release.pk).update(
                status=Release.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:5000],
                finished_at=timezone.now(),
            )  # fmt: skip
            raise
        release.refresh_from_db()
    if job.params.get("hub_repo") and not release.pushed_to:
        job_progress(job_id=job.pk, done=len(STEPS), note=f"pushing to {job.params['hub_repo']}")
        release.pushed_to = release_push(release=release, repo_id=job.params["hub_repo"])
    return {
        "pushed_to": release.pushed_to,
        "release": release.pk,
        "study": release.study.slug,
        "version": release.version,
        "archive_sha256": release.archive_sha256,
        "archive_bytes": release.archive_bytes,
        "url": f"/studies/{release.study.slug}/releases/",
    }


def _protocol(study: Study, tables: dict, names: dict[str, str]) -> dict[str, Any]:
    inst = tables["instrument"].to_pylist()[0]
    choices = [c.get("label") or c.get("value", "") for c in json.loads(inst["choices"])]
    config = study.config
    return {
        "instrument_slug": inst["slug"],
        "instrument_version": inst["version"],
        "instrument_hash": inst["content_hash"],
        "question": inst["question"],
        "choices": choices,
        "raters_per_item": study.raters_per_item,
        "attention_check_rate": study.attention_check_rate,
        "target": names.get(study.target_model.slug, study.target_model.slug),
        "baselines": sorted(names.get(b, b) for b in study.baselines.values_list("slug",
                                                                                 flat=True)),
        "judges": sorted(j["slug"] for j in config.get("judges", [])) or sorted(
            {g.removeprefix("llm:") for g in tables["judgments"]["judge_group"].to_pylist()
             if g.startswith("llm:")}
        ),
        "config_hash": study.config_hash or "-",
    }  # fmt: skip


def _counts(tables: dict) -> dict[str, int]:
    j = tables["judgments"]
    human = pc.equal(j["judge_kind"], "human")
    return {
        "prompts": tables["prompts"].num_rows,
        "outputs": tables["outputs"].num_rows,
        "items": tables["items"].num_rows,
        "judgments": j.num_rows,
        "human_judgments": pc.sum(pc.cast(human, "int64")).as_py() or 0,
        "llm_judgments": j.num_rows - (pc.sum(pc.cast(human, "int64")).as_py() or 0),
        "counted_judgments": pc.sum(pc.cast(j["counted"], "int64")).as_py() or 0,
        "excluded_judgments": pc.sum(pc.cast(j["excluded"], "int64")).as_py() or 0,
        "raters": pc.count_distinct(j["rater"], mode="only_valid").as_py(),
    }


def release_build(*, release: Release, job_id: int | None = None) -> Release:
    """Write the release's folder and archive and mark it ready (see the module doc)."""
    from evalhub.dashboards.selectors import headline_results  # numpy/scipy, on demand

    study = release.study
    done = 0
    root = Path(settings.RELEASES_DIR)

    def step(note: str) -> None:
        nonlocal done
        if job_id is not None:
            job_progress(job_id=job_id, done=done, total=len(STEPS), note=note)
        done += 1

    # The card's results first (cached, or computed here: only what the card shows, not the
    # whole dashboard): their arrays are freed before the tables are read, so the two peaks
    # in memory do not add up.
    results = headline_results(study)
    options = ReleaseOptions(release.include_comments, release.withhold_model_names)
    found = release_tables(study, options, progress=step)
    previous = (
        Release.objects.filter(
            study=study, status=Release.Status.READY, version__lt=release.version
        )
        .order_by("-version")
        .first()
    )
    scratch = files.scratch_folder(root, study.slug)
    try:
        config = published_config(study, found.model_names, options.withhold_model_names)
        sizes = files.tables_write(scratch, found.tables, config)
        step("card")
        changes = []
        if previous and not previous.path.is_dir():  # never expected: versions are kept
            changes = [f"unknown: the files of v{previous.version} are missing here"]
        elif previous:
            changes = release_changes(previous.path, found.tables)
        counts = _counts(found.tables)
        facts = CardFacts(
            slug=study.slug, name=study.name, kind=study.kind, version=release.version,
            license=release.license, published_at=timezone.now(), counts=counts,
            protocol=_protocol(study, found.tables, found.model_names),
            results=results, exclusions=found.exclusions, changes=changes,
            previous_version=previous.version if previous else None,
            include_comments=options.include_comments,
            withhold_model_names=options.withhold_model_names, model_names=found.model_names,
        )  # fmt: skip
        (scratch / "README.md").write_text(dataset_card(facts, sizes))
        files.checksums_write(scratch)
        step("archive")
        name = f"v{release.version}-{scratch.name.removeprefix('.building-')[:8]}"
        final = root / study.slug / name
        sha, size = files.publish_folder(scratch, final, f"{study.slug}-v{release.version}")
    except BaseException:
        files.scratch_discard(scratch)
        raise
    Release.objects.filter(pk=release.pk).update(
        status=Release.Status.READY, folder=final.relative_to(root).as_posix(),
        archive_sha256=sha, archive_bytes=size, counts=counts, changes=changes, error="",
        finished_at=timezone.now(),
    )  # fmt: skip
    if job_id is not None:
        job_progress(job_id=job_id, done=len(STEPS), total=len(STEPS), note="ready")
    release.refresh_from_db()
    log.info("study %s: release v%s ready (%s bytes)", study.slug, release.version, size)
    return release
