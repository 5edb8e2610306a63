"""Import a release (from this or another EvalHub) as a new, closed study whose results are
the release's: a reviewer reproduces the published figures on their own installation.

The folder's checksums are verified first; then everything is written in one transaction.
Rows are created in the release's order (which is the original id order), so clustered
bootstrap intervals, which draw prompts in id order with a fixed seed, come out the same."""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from django.db import transaction

from evalhub.crowd.models import RaterExclusion
from evalhub.instruments.models import Instrument
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.releases import files
from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study


class ReleaseImportError(ValueError):
    """The folder is not a complete, unaltered release, or the slug is taken."""


def _rows(folder: Path, name: str) -> list[dict[str, Any]]:
    path = folder / "data" / f"{name}.parquet"
    if not path.is_file():
        raise ReleaseImportError(f"{path}: missing (not a release folder?)")
    return pq.read_table(path).to_pylist()


def release_folder_check(folder: Path) -> None:
    if not (folder / files.CHECKSUMS).is_file():
        raise ReleaseImportError(f"{folder}: no checksums file (not a release folder?)")
    wrong = files.checksums_verify(folder)
    if wrong:
        raise ReleaseImportError(f"{folder}: files differ from checksums: {', '.join(wrong)}")


def _instrument(row: dict[str, Any]) -> Instrument:
    same = Instrument.objects.filter(slug=row["slug"], content_hash=row["content_hash"]).first()
    if same is not None:
        return same
    taken = Instrument.objects.filter(slug=row["slug"]).order_by("-version").first()
    fields = {k: row[k] for k in ("name", "kind", "levels", "intro", "question", "gold_choice",
                                  "comment", "judge_template", "credit")}  # fmt: skip
    return Instrument.objects.create(
        slug=row["slug"], version=(taken.version + 1) if taken else row["version"],
        choices=json.loads(row["choices"]), content_hash=row["content_hash"], **fields,
    )  # fmt: skip


def release_import(*, folder: Path, slug: str, by: Any = None) -> Study:
    """Make study `slug` (closed) from the release in `folder` (or its zip archive).
    ReleaseImportError for something that is not an unaltered release, or a slug already
    taken; nothing is written then."""
    folder = Path(folder)
    if folder.is_file():
        if not zipfile.is_zipfile(folder):
            raise ReleaseImportError(f"{folder}: neither a release folder nor its zip archive")
        with tempfile.TemporaryDirectory() as scratch, zipfile.ZipFile(folder) as zf:
            zf.extractall(scratch)  # entries are checked against `checksums` next
            tops = [p for p in Path(scratch).iterdir() if p.is_dir()]
            if len(tops) != 1:
                raise ReleaseImportError(f"{folder}: expected one release folder inside")
            return _import_folder(tops[0], slug, by)
    return _import_folder(folder, slug, by)


@transaction.atomic
def _import_folder(folder: Path, slug: str, by: Any) -> Study:
    release_folder_check(folder)
    if Study.objects.filter(slug=slug).exists():
        raise ReleaseImportError(f"slug: a study {slug!r} exists already")
    if PromptSet.objects.filter(slug=slug).exists():
        raise ReleaseImportError(f"slug: a prompt set {slug!r} exists already")
    config_row = _rows(folder, "config")[0]
    config = json.loads(config_row["config"])
    prompt_set = PromptSet.objects.create(slug=slug, name=f"{config_row['name']} (imported)")
    prompts = Prompt.objects.bulk_create(
        Prompt(prompt_set=prompt_set, external_id=r["prompt_id"], position=r["position"],
               text=r["text"], context=json.loads(r["context"]), category=r["category"],
               source=r["source"], reference=r["reference"])
        for r in _rows(folder, "prompts")
    )  # fmt: skip
    prompt_of = {p.external_id: p for p in prompts}
    output_rows = _rows(folder, "outputs")
    models = {
        m: ModelEntry.objects.get_or_create(slug=m, defaults={"name": m})[0]
        for m in dict.fromkeys(r["model"] for r in output_rows)
    }
    outputs = Output.objects.bulk_create(
        Output(prompt=prompt_of[r["prompt_id"]], model=models[r["model"]],
               sample_index=r["sample_index"], text=r["text"],
               html=render_untrusted_markdown(r["text"]), turns=json.loads(r["turns"]),
               provenance=json.loads(r["provenance"]))
        for r in output_rows
    )  # fmt: skip
    output_of = {r["output_id"]: o for r, o in zip(output_rows, outputs, strict=True)}
    item_rows = _rows(folder, "items")
    real = [r for r in item_rows if not r["is_gold"]] or item_rows
    study = Study.objects.create(
        slug=slug, name=config_row["name"], kind=config_row["kind"], prompt_set=prompt_set,
        target_model=models[real[0]["target_model"]],
        instrument=_instrument(_rows(folder, "instrument")[0]),
        raters_per_item=config.get("raters_per_item", 3),
        attention_check_rate=config.get("attention_checks", {}).get("rate", 0.0),
        inconsistent_pair_policy=config.get("inconsistent_pair_policy") or "tie",
        status=Study.Status.CLOSED, config={**config, "imported_from_release": folder.name},
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
    _judgments_import(study, _rows(folder, "judgments"), item_of)
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
