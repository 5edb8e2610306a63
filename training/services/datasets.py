"""Import LIMA-format JSONL into a training dataset, and measure its token lengths."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from evalhub.importing import InputError, Row, RowProblem
from evalhub.teams.models import Team
from evalhub.teams.services import team_default
from training.models import TrainingDataset, TrainingExample
from training.recipes import DEFAULT_EOT_TOKEN


def _row_problems(number: int, row: dict[str, Any]) -> list[RowProblem]:
    turns = row.get("conversations")
    if not isinstance(turns, list) or not turns:
        return [RowProblem(number, "must be a non-empty list of utterances", "conversations")]
    problems = [
        RowProblem(number, f"utterance {i + 1} must be a non-empty string", "conversations")
        for i, turn in enumerate(turns)
        if not isinstance(turn, str) or not turn.strip()
    ]
    if len(turns) < 2:
        problems.append(
            RowProblem(
                number, "needs a user and an assistant utterance to train on", "conversations"
            )
        )
    if "source" in row and not isinstance(row["source"], str):
        problems.append(RowProblem(number, "must be a string", "source"))
    return problems


@transaction.atomic
def dataset_import(
    *,
    team: Team | None = None,
    slug: str,
    name: str,
    rows: list[Row],
    source_file: str = "",
    tokenizer_path: str = "",
    max_length: int = 2048,
    eot_token: str = DEFAULT_EOT_TOKEN,
) -> TrainingDataset:
    """Create a dataset from rows {"conversations": [user, assistant, user, ...], "source"}.

    Multi-turn rows (LIMA's 30 dialogues) keep all their turns. With `tokenizer_path`, token
    lengths per source and the rows over `max_length` are measured too. Every row is checked
    first: any bad row raises InputError naming its line and field, and nothing is written;
    so does a slug already taken. The dataset belongs to `team` (the default team for the
    command line, which has no current team)."""
    team = team or team_default()
    if TrainingDataset.objects.filter(team=team, slug=slug).exists():
        raise InputError.single(0, f"dataset {slug!r} already exists", "slug", source=source_file)
    problems = [p for number, row in rows for p in _row_problems(number, row)]
    if problems:
        raise InputError(problems, source=source_file)
    dataset = TrainingDataset.objects.create(
        team=team, slug=slug, name=name or slug, source_file=source_file
    )
    TrainingExample.objects.bulk_create(
        [
            TrainingExample(
                dataset=dataset,
                position=position,
                conversations=row["conversations"],
                source=row.get("source", ""),
            )
            for position, (_, row) in enumerate(rows)
        ],
        batch_size=1000,
    )
    if tokenizer_path:
        dataset_measure(
            dataset=dataset,
            tokenizer_path=tokenizer_path,
            max_length=max_length,
            eot_token=eot_token,
        )
    return dataset


def dataset_measure(
    *, dataset: TrainingDataset, tokenizer_path: str, max_length: int = 2048,
    eot_token: str = DEFAULT_EOT_TOKEN,
) -> TrainingDataset:  # fmt: skip
    """Store token lengths per source (mean, median, max, rows over `max_length`) as the
    trainer would count them: with the EOT after every utterance."""
    from transformers import AutoTokenizer

    from training.engine.conversations import token_length_stats, tokenizer_add_eot

    tokenizer = AutoTokenizer.from_pretrained(tokenizer_path)
    eot_id, _ = tokenizer_add_eot(tokenizer, eot_token)
    rows = list(dataset.examples.order_by("position").values_list("source", "conversations"))
    stats = token_length_stats(rows, tokenizer, eot_id=eot_id, max_length=max_length)
    dataset.token_stats = [s.__dict__ for s in stats]
    dataset.stats_tokenizer = tokenizer_path
    dataset.stats_max_length = max_length
    dataset.save(update_fields=["token_stats", "stats_tokenizer", "stats_max_length"])
    return dataset
