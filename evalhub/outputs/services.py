"""Writes for models and outputs: register models, import outputs in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError, Row, RowProblem, read_rows
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet


@dataclass(frozen=True)
class OutputImportResult:
    created: int
    unchanged: int
    models_created: list[str]

    @property
    def changed_nothing(self) -> bool:
        return self.created == 0 and not self.models_created


def model_register(
    *, slug: str, name: str = "", kind: str = ModelEntry.Kind.EXTERNAL, **fields: Any
) -> ModelEntry:
    """Create a model entry (or return the existing one with that slug, unchanged)."""
    model, _ = ModelEntry.objects.get_or_create(
        slug=slug, defaults={"name": name or slug, "kind": kind, **fields}
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


@transaction.atomic
def outputs_import(
    *,
    prompt_set: PromptSet,
    rows: list[Row],
    model: ModelEntry | None = None,
    create_missing_models: bool = True,
) -> OutputImportResult:
    """Add outputs for prompts of `prompt_set`.

    A row is {"output" | "text", and one of "prompt_id" | "external_id" | "instruction",
    optionally "model" | "generator", "sample_index", "provenance", "turns"}. `model`, when
    given, is used for rows that name none. Every row is checked first; an unknown or
    missing prompt, an unknown model (unless created), a row repeated in the input, or a
    different text for an output that already exists raises InputError and writes nothing.
    Re-submitting identical outputs is allowed and counted as unchanged."""
    index = _PromptIndex(prompt_set)
    models = {m.slug: m for m in ModelEntry.objects.all()}
    problems: list[RowProblem] = []
    planned: dict[tuple[int, str, int], tuple[int, dict[str, Any]]] = {}
    new_models: list[str] = []
    for number, row in rows:
        text = row.get("output", row.get("text"))
        if not isinstance(text, str):
            problems.append(RowProblem(number, "is missing or not a string", "output"))
            continue
        prompt_id, problem = index.find(number, row)
        if problem:
            problems.append(problem)
            continue
        raw_model = row.get("model", row.get("generator"))
        if raw_model is None and model is None:
            problems.append(RowProblem(number, "is missing", "model"))
            continue
        slug = model.slug if raw_model is None else slugify(str(raw_model))[:100]
        if not slug:
            problems.append(RowProblem(number, "must name a model", "model"))
            continue
        if slug not in models:
            if not create_missing_models:
                problems.append(RowProblem(number, f"unknown model {slug!r}", "model"))
                continue
            models[slug] = ModelEntry(slug=slug, name=str(raw_model), kind=ModelEntry.Kind.EXTERNAL)
            new_models.append(slug)
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
            prompt__prompt_set=prompt_set, model__slug__in={k[1] for k in planned}
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
    if problems:
        problems.sort(key=lambda p: p.row)
        raise InputError(problems)

    for slug in new_models:
        models[slug].save()
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
            for (prompt_id, slug, sample), fields in to_create
        ],
        batch_size=2000,
    )
    return OutputImportResult(
        created=len(to_create), unchanged=unchanged, models_created=new_models
    )


def outputs_import_job(job: Any) -> dict[str, Any]:
    """Job handler: import outputs from a file on the worker's disk (params: path,
    prompt_set, model). Safe to run twice: a second run finds every row unchanged."""
    params = job.params
    prompt_set = PromptSet.objects.get(slug=params["prompt_set"])
    model = ModelEntry.objects.get(slug=params["model"]) if params.get("model") else None
    result = outputs_import(prompt_set=prompt_set, rows=read_rows(params["path"]), model=model)
    return {"created": result.created, "unchanged": result.unchanged}
