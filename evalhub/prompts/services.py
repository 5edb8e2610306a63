"""Writes for prompt sets: import from LIMA's JSONL or a plain JSONL, in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import transaction

from evalhub.importing import InputError, Row, RowProblem, iter_text_field
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.teams.models import Team


@dataclass(frozen=True)
class PromptImportResult:
    prompt_set: PromptSet
    created: int


def _prompt_from_lima(number: int, row: dict[str, Any]) -> tuple[dict[str, Any], list[RowProblem]]:
    """LIMA rows: {"conversations": [user, assistant, user, ...], "source": ...}.

    The last user turn is the prompt and earlier turns are its context. A row that ends
    with an assistant turn (a training row) keeps that turn as the reference answer."""
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        return {}, [RowProblem(number, "must be a non-empty list of strings", "conversations")]
    if not all(isinstance(t, str) and t.strip() for t in turns):
        return {}, [RowProblem(number, "every turn must be a non-empty string", "conversations")]
    reference = ""
    if len(turns) % 2 == 0:
        *turns, reference = turns
    roles = ["user" if i % 2 == 0 else "assistant" for i in range(len(turns) - 1)]
    context = [{"role": r, "content": t} for r, t in zip(roles, turns[:-1], strict=True)]
    source = row.get("source", "")
    fields = {
        "external_id": str(row.get("id") or f"L{number}"),
        "text": turns[-1],
        "context": context,
        "category": str(row.get("category") or source or ""),
        "source": str(source or ""),
        "reference": reference,
    }
    return fields, []


def _prompt_from_plain(number: int, row: dict[str, Any]) -> tuple[dict[str, Any], list[RowProblem]]:
    """Plain rows: {"id", "text", "category"}, optionally "context" and "source"."""
    problems = list(iter_text_field(number, row, "text"))
    raw_id = row.get("id")
    if raw_id is None or str(raw_id).strip() == "":
        problems.append(RowProblem(number, "is missing", "id"))
    context = row.get("context", [])
    if not isinstance(context, list) or not all(
        isinstance(t, dict)
        and t.get("role") in {"user", "assistant"}
        and isinstance(t.get("content"), str)
        for t in context
    ):
        problems.append(RowProblem(number, "must be a list of {role, content} turns", "context"))
    if problems:
        return {}, problems
    fields = {
        "external_id": str(raw_id),
        "text": row["text"],
        "context": context,
        "category": str(row.get("category") or ""),
        "source": str(row.get("source") or ""),
        "reference": str(row.get("reference") or ""),
    }
    return fields, []


def prompt_fields_from_row(
    number: int, row: dict[str, Any]
) -> tuple[dict[str, Any], list[RowProblem]]:
    if "conversations" in row:
        return _prompt_from_lima(number, row)
    return _prompt_from_plain(number, row)


def prompts_import_plan(
    *, team: Team | None, slug: str, rows: list[Row]
) -> tuple[list[dict[str, Any]], list[RowProblem]]:
    """Check every row of a prompt import into `team`'s set `slug` (new or existing); reads
    only. Returns the prompts' fields in file order and the problems found."""
    existing = set(
        Prompt.objects.filter(prompt_set__slug=slug, prompt_set__team=team).values_list(
            "external_id", flat=True
        )
    )
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    planned: list[dict[str, Any]] = []
    for number, row in rows:
        fields, row_problems = prompt_fields_from_row(number, row)
        problems.extend(row_problems)
        if row_problems:
            continue
        external_id = fields["external_id"]
        if external_id in seen:
            problems.append(
                RowProblem(
                    number,
                    f"duplicate id {external_id!r} (first on line {seen[external_id]})",
                    "id",
                )
            )
            continue
        if external_id in existing:
            problems.append(
                RowProblem(
                    number, f"id {external_id!r} already exists in prompt set {slug!r}", "id"
                )
            )
            continue
        seen[external_id] = number
        planned.append(fields)
    return planned, problems


@transaction.atomic
def prompts_import(
    *, team: Team | None, slug: str, rows: list[Row], name: str = "", description: str = ""
) -> PromptImportResult:
    """Create `team`'s prompt set `slug` if needed and add every row as a prompt (slugs are
    unique within a team: another team's set of the same slug is not in the way).

    All rows are checked before anything is written; any problem (bad row, an id that
    appears twice or already exists in the set) raises InputError and writes nothing."""
    planned, problems = prompts_import_plan(team=team, slug=slug, rows=rows)
    if problems:
        raise InputError(problems)
    prompt_set, _ = PromptSet.objects.get_or_create(
        slug=slug, team=team, defaults={"name": name or slug, "description": description}
    )
    next_position = prompt_set.prompts.count()
    Prompt.objects.bulk_create(
        [
            Prompt(prompt_set=prompt_set, position=next_position + n, **fields)
            for n, fields in enumerate(planned)
        ],
        batch_size=2000,
    )
    return PromptImportResult(prompt_set=prompt_set, created=len(planned))
