"""Writes for models and outputs: register models, import outputs in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError, Row, RowProblem, read_file_rows
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.teams.models import Team


@dataclass(frozen=True)
class OutputImportResult:
    created: int
    unchanged: int
    models_created: list[str]

    @property
    def changed_nothing(self) -> bool:
        return self.created == 0 and not self.models_created


def model_register(
    *,
    team: Team | None,
    slug: str,
    name: str = "",
    kind: str = ModelEntry.Kind.EXTERNAL,
    **fields: Any,
) -> ModelEntry:
    """Create a model entry of `team` (or return the team's existing one with that slug,
    unchanged). Slugs are unique within a team: another team's model of the same slug is
    neither returned nor in the way."""
    model, _ = ModelEntry.objects.get_or_create(
        team=team, slug=slug, defaults={"name": name or slug, "kind": kind, **fields}
    )
    return model


def output_fields(text: str) -> dict[str, Any]:
    """The stored fields of a new output. Its HTML is rendered once, when a study that
    shows it is launched (evalhub.rating.content), so bulk imports of outputs that no
    rater will see do not pay for markdown rendering."""
    return {"text": text, "html": ""}


class _PromptIndex:
    """Finds a prompt of one set by our id, its external id, or its exact text."""

    def __init__(self, prompt_set: PromptSet) -> None:
        rows = list(prompt_set.prompts.values_list("id", "external_id", "text"))
        self.ids = {pk for pk, _, _ in rows}
        self.by_external = {ext: pk for pk, ext, _ in rows}
        self.by_text: dict[str, int | None] = {}
        for pk, _, text in rows:
            # Two prompts with the same text make the text ambiguous as a key.
            self.by_text[text] = None if text in self.by_text else pk

    def find(self, number: int, row: dict[str, Any]) -> tuple[int | None, RowProblem | None]:
        if row.get("prompt_id") is not None:
            pk = row["prompt_id"]
            if isinstance(pk, int) and pk in self.ids:
                return pk, None
            return None, RowProblem(number, f"unknown prompt id {pk!r} in this set", "prompt_id")
        if row.get("external_id") is not None:
            pk = self.by_external.get(str(row["external_id"]))
            if pk is None:
                return None, RowProblem(
                    number, f"unknown prompt {row['external_id']!r}", "external_id"
                )
            return pk, None
        if isinstance(row.get("instruction"), str):
            text = row["instruction"]
            if text not in self.by_text:
                return None, RowProblem(number, "no prompt has this exact text", "instruction")
            pk = self.by_text[text]
            if pk is None:
                return None, RowProblem(
                    number, "this text matches several prompts; use external_id", "instruction"
                )
            return pk, None
        return None, RowProblem(
            number, "name the prompt by prompt_id, external_id or instruction", "prompt"
        )


@dataclass
class OutputImportPlan:
    """What an outputs import would write, found without writing: the outputs to create,
    how many are unchanged, the models it would create, rows per model named, and every
    problem (sorted by row)."""

    to_create: list[tuple[tuple[int, str, int], dict[str, Any]]]
    unchanged: int
    new_models: dict[str, ModelEntry]
    models_named: dict[str, int]
    problems: list[RowProblem]


def _model_slug(row: dict[str, Any], model: ModelEntry | None) -> tuple[str | None, Any]:
    raw_model = row.get("model", row.get("generator"))
    if raw_model is None:
        return (model.slug if model is not None else None), None
    return slugify(str(raw_model))[:100], raw_model


def outputs_import_plan(
    *,
    prompt_set: PromptSet,
    rows: list[Row],
    model: ModelEntry | None = None,
    create_missing_models: bool = True,
) -> OutputImportPlan:
    """Check and plan an outputs import (rows as in outputs_import); reads only."""
    index = _PromptIndex(prompt_set)
    # The prompt set's team's models: slugs are unique within a team, so another team's
    # model of the same slug is neither shared nor in the way.
    models = {m.slug: m for m in ModelEntry.objects.filter(team_id=prompt_set.team_id)}
    problems: list[RowProblem] = []
    planned: dict[tuple[int, str, int], tuple[int, dict[str, Any]]] = {}
    new_models: dict[str, ModelEntry] = {}
    named: dict[str, int] = {}
    for number, row in rows:
        slug, raw_model = _model_slug(row, model)
        if slug:
            named[slug] = named.get(slug, 0) + 1
        text = row.get("output", row.get("text"))
        if not isinstance(text, str):
            problems.append(RowProblem(number, "is missing or not a string", "output"))
            continue
        prompt_id, problem = index.find(number, row)
        if problem:
            problems.append(problem)
            continue
        if slug is None:
            problems.append(RowProblem(number, "is missing", "model"))
            continue
        if not slug:
            problems.append(RowProblem(number, "must name a model", "model"))
            continue
        if slug not in models:
            if not create_missing_models:
                problems.append(RowProblem(number, f"unknown model {slug!r}", "model"))
                continue
            models[slug] = ModelEntry(
                team_id=prompt_set.team_id,
                slug=slug,
                name=str(raw_model),
                kind=ModelEntry.Kind.EXTERNAL,
            )
            new_models[slug] = models[slug]
        sample = row.get("sample_index", 0)
        if not isinstance(sample, int) or isinstance(sample, bool) or not 0 <= sample < 1000:
            problems.append(RowProblem(number, "must be an integer from 0 to 999", "sample_index"))
            continue
        provenance = row.get("provenance", {})
        if not isinstance(provenance, dict):
            problems.append(RowProblem(number, "must be an object", "provenance"))
            continue
        turns = row.get("turns", [])
        if not isinstance(turns, list) or not all(isinstance(t, str) for t in turns):
            problems.append(RowProblem(number, "must be a list of strings", "turns"))
            continue
        key = (prompt_id, slug, sample)
        if key in planned:
            problems.append(
                RowProblem(
                    number,
                    f"duplicate of line {planned[key][0]} (same prompt, model and sample)",
                    "prompt",
                )
            )
            continue
        planned[key] = (number, {"text": text, "provenance": provenance, "turns": turns})
    existing = {
        (p, s, i): t
        for p, s, i, t in Output.objects.filter(
            prompt__prompt_set=prompt_set,
            model__team_id=prompt_set.team_id,
            model__slug__in={k[1] for k in planned},
        ).values_list("prompt_id", "model__slug", "sample_index", "text")
    }
    unchanged = 0
    to_create: list[tuple[tuple[int, str, int], dict[str, Any]]] = []
    for key, (number, fields) in planned.items():
        if key in existing:
            if existing[key] == fields["text"]:
                unchanged += 1
            else:
                problems.append(
                    RowProblem(
                        number,
                        "this prompt already has a different output from this model and sample",
                        "output",
                    )
                )
            continue
        to_create.append((key, fields))
    problems.sort(key=lambda p: p.row)
    return OutputImportPlan(to_create, unchanged, new_models, named, problems)


@transaction.atomic
def outputs_import(
    *,
    prompt_set: PromptSet,
    rows: list[Row],
    model: ModelEntry | None = None,
    create_missing_models: bool = True,
    plan: OutputImportPlan | None = None,
) -> OutputImportResult:
    """Add outputs for prompts of `prompt_set`.

    A row is {"output" | "text", and one of "prompt_id" | "external_id" | "instruction",
    optionally "model" | "generator", "sample_index", "provenance", "turns"}. `model`, when
    given, is used for rows that name none. Every row is checked first; an unknown or
    missing prompt, an unknown model (unless created), a row repeated in the input, or a
    different text for an output that already exists raises InputError and writes nothing.
    Re-submitting identical outputs is allowed and counted as unchanged. `plan`, from
    outputs_import_plan on the same rows, saves checking them twice."""
    plan = plan or outputs_import_plan(
        prompt_set=prompt_set, rows=rows, model=model, create_missing_models=create_missing_models
    )
    if plan.problems:
        raise InputError(plan.problems)
    for new_model in plan.new_models.values():
        new_model.save()
    slugs = {slug for (_, slug, _), _ in plan.to_create}
    models = {
        m.slug: m for m in ModelEntry.objects.filter(slug__in=slugs, team_id=prompt_set.team_id)
    }
    Output.objects.bulk_create(
        [
            Output(
                prompt_id=prompt_id,
                model=models[slug],
                sample_index=sample,
                provenance=fields["provenance"],
                turns=fields["turns"],
                **output_fields(fields["text"]),
            )
            for (prompt_id, slug, sample), fields in plan.to_create
        ],
        batch_size=2000,
    )
    return OutputImportResult(
        created=len(plan.to_create), unchanged=plan.unchanged, models_created=list(plan.new_models)
    )


def outputs_import_job(job: Any) -> dict[str, Any]:
    """Job handler: import a file on the worker's disk (params: path, prompt_set, and
    model, or what="prompts" with name). The file is checked, then written in one
    transaction, with progress at each stage. Safe to run twice: a second outputs run
    finds every row unchanged. A workspace upload's file is removed once imported."""
    from evalhub.jobs.services import job_progress
    from evalhub.prompts.services import prompts_import

    params = job.params
    _, rows = read_file_rows(params["path"], params.get("filename", ""))
    job_progress(job_id=job.pk, done=0, total=len(rows), note=f"read {len(rows)} rows; checking")
    if params.get("what") == "arena":
        from evalhub.studies.arena_import import arena_battles_import

        result = arena_battles_import(
            team=job.team,
            name=params["prompt_set"],
            rows=rows,
            imported_from=params.get("filename") or "upload",
        )
        outcome = {"study": result.study, "created": result.created, "unchanged": result.unchanged}
    elif params.get("what") == "prompts":
        result = prompts_import(
            team=job.team, slug=params["prompt_set"], rows=rows, name=params.get("name", "")
        )
        outcome = {"prompt_set": result.prompt_set.slug, "created": result.created}
    else:
        prompt_set = PromptSet.objects.get(slug=params["prompt_set"], team=job.team)
        with transaction.atomic():  # a model named by the upload form is made with its outputs
            model = (
                model_register(team=job.team, slug=params["model"]) if params.get("model") else None
            )
            imported = outputs_import(prompt_set=prompt_set, rows=rows, model=model)
        outcome = {"created": imported.created, "unchanged": imported.unchanged}
        if imported.models_created:
            outcome["models_created"] = imported.models_created
    job_progress(job_id=job.pk, done=len(rows), note=f"imported {len(rows)} rows")
    if params.get("remove_after"):
        Path(params["path"]).unlink(missing_ok=True)
    return outcome
