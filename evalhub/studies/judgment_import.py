"""Import judgments made elsewhere (human or LLM) onto a study's items, so old studies can
be analysed here. One transaction; every row is checked first and a bad one names its row
and field and writes nothing.

Two row shapes are read:

* AlpacaEval annotations: {"instruction", "generator_1", "generator_2", "preference",
  "output_1", "output_2", ...}. One generator must be the study's target model and the other
  one of its baselines (names compared as slugs, like outputs_import does). `preference` 1
  or 2 names the better output; 0 or 1.5 is a tie; a weighted preference strictly between
  1 and 2 counts for the nearer side. generator_1 was shown first. The continuous value is
  kept too, as `preference` = P(target better) (pref - 1 when the target is generator_2,
  2 - pref when it is generator_1; 0.5 for a tie).
* Ours: the item by "item_id", or by the prompt ("prompt_id" | "external_id" |
  "instruction") plus "baseline" (pairwise) or "model" (single-output studies, default the
  target). The verdict is "verdict": target / baseline / tie for pairwise studies,
  "verdict" or "label": fail / pass / excellent for absolute and dialogue studies (plus
  optional "turn_labels"), "score" 1-6 for Likert. Optional: "order" (target_first /
  baseline_first; "single" when not known), "comment", "time_on_task_ms", "raw_choice".

Imported judgments carry `judge_group` as given and `imported_from`; they have neither a
rater nor a judge row. Importing the same rows under the same name again changes nothing.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from evalhub.importing import InputError, Row, RowProblem
from evalhub.outputs.services import _PromptIndex  # the one prompt matcher, shared on purpose
from evalhub.studies.models import Item, Judgment, Study
from evalhub.studies.signals import judgments_bulk_written_send

PAIRWISE_VERDICTS = {"target", "baseline", "tie"}
LABEL_VERDICTS = {"fail", "pass", "excellent"}
ORDERS = {choice.value for choice in Judgment.Order}


@dataclass(frozen=True)
class JudgmentImportResult:
    created: int
    unchanged: int
    judge_group: str
    imported_from: str

    @property
    def changed_nothing(self) -> bool:
        return self.created == 0


class _StudyItems:
    """Finds a study's (non-gold) item by id, by (prompt, baseline) or by (prompt, model)."""

    def __init__(self, study: Study) -> None:
        rows = Item.objects.filter(study=study, is_gold=False).values_list(
            "id", "prompt_id", "target_output__model__slug", "baseline_output__model__slug"
        )
        self.ids: set[int] = set()
        self.pairs: dict[tuple[int, str], int | None] = {}
        self.singles: dict[tuple[int, str], int | None] = {}
        for pk, prompt_id, target_slug, baseline_slug in rows:
            self.ids.add(pk)
            index, key = (
                (self.pairs, (prompt_id, baseline_slug))
                if baseline_slug
                else (self.singles, (prompt_id, target_slug or ""))
            )
            # Two items with one key (several samples) make the key ambiguous.
            index[key] = None if key in index else pk


def _model_slug(value: Any) -> str:
    return slugify(str(value))[:100] if value is not None else ""


class _RowReader:
    def __init__(self, study: Study) -> None:
        self.study = study
        self.items = _StudyItems(study)
        self.prompts = _PromptIndex(study.prompt_set)
        self.target = study.target_model.slug
        self.baselines = set(study.baselines.values_list("slug", flat=True))
        self.pairwise = study.kind == Study.Kind.PAIRWISE

    def read(self, number: int, row: dict[str, Any]) -> tuple[dict[str, Any] | None, RowProblem]:
        if "preference" in row or "generator_1" in row:
            return self._alpacaeval(number, row)
        return self._ours(number, row)

    def _pair_item(self, number: int, prompt_id: int, baseline: str) -> tuple[int | None, Any]:
        if baseline not in self.baselines:
            return None, RowProblem(
                number, f"{baseline!r} is not a baseline of study {self.study.slug!r}", "baseline"
            )
        if (prompt_id, baseline) not in self.items.pairs:
            return None, RowProblem(
                number, f"the study has no item for this prompt against {baseline!r}", "prompt"
            )
        pk = self.items.pairs[(prompt_id, baseline)]
        if pk is None:
            return None, RowProblem(number, "several items match; name it by item_id", "prompt")
        return pk, None

    def _alpacaeval(self, number: int, row: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
        if not self.pairwise:
            return None, RowProblem(number, "pairwise preferences need a pairwise study", "")
        first, second = _model_slug(row.get("generator_1")), _model_slug(row.get("generator_2"))
        for name, slug in (("generator_1", first), ("generator_2", second)):
            if not slug:
                return None, RowProblem(number, "is missing", name)
        if self.target not in (first, second) or first == second:
            return None, RowProblem(
                number, f"one generator must be the target model {self.target!r}", "generator_1"
            )
        target_first = first == self.target
        baseline = second if target_first else first
        pref = row.get("preference")
        if isinstance(pref, bool) or not isinstance(pref, int | float):
            return None, RowProblem(number, "must be 1, 2, or 0 / 1.5 for a tie", "preference")
        if pref in (0, 1.5):
            verdict, second_better = "tie", 0.5
        elif 1 <= pref <= 2:
            first_won = pref < 1.5
            verdict = "target" if first_won == target_first else "baseline"
            second_better = float(pref) - 1.0
        else:
            return None, RowProblem(number, "must be 1, 2, or 0 / 1.5 for a tie", "preference")
        prompt_id, problem = self.prompts.find(number, row)
        if problem:
            return None, problem
        item_id, problem = self._pair_item(number, prompt_id, baseline)
        if problem:
            return None, problem
        order = "target_first" if target_first else "baseline_first"
        return {
            "item_id": item_id,
            "order": order,
            "verdict": verdict,
            "preference": 1.0 - second_better if target_first else second_better,
            "raw_choice": json.dumps(pref),
        }, None

    def _find_item(self, number: int, row: dict[str, Any]) -> tuple[int | None, Any]:
        if row.get("item_id") is not None:
            pk = row["item_id"]
            if isinstance(pk, int) and not isinstance(pk, bool) and pk in self.items.ids:
                return pk, None
            return None, RowProblem(number, f"no item {pk!r} in this study", "item_id")
        prompt_id, problem = self.prompts.find(number, row)
        if problem:
            return None, problem
        if self.pairwise:
            baseline = _model_slug(row.get("baseline"))
            if not baseline:
                return None, RowProblem(number, "is missing (or give item_id)", "baseline")
            return self._pair_item(number, prompt_id, baseline)
        model = _model_slug(row.get("model")) or self.target
        pk = self.items.singles.get((prompt_id, model))
        if pk is None:
            if (prompt_id, model) in self.items.singles:
                why = "several items match; use item_id"
            else:
                why = f"the study has no item for this prompt and model {model!r}"
            return None, RowProblem(number, why, "prompt")
        return pk, None

    def _ours(self, number: int, row: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
        item_id, problem = self._find_item(number, row)
        if problem:
            return None, problem
        fields: dict[str, Any] = {"item_id": item_id, "order": row.get("order", "single")}
        if not isinstance(fields["order"], str) or fields["order"] not in ORDERS:
            return None, RowProblem(number, f"must be one of {sorted(ORDERS)}", "order")
        kind = self.study.kind
        if kind == Study.Kind.LIKERT:
            score = row.get("score")
            if isinstance(score, bool) or not isinstance(score, int | float) or not 1 <= score <= 6:
                return None, RowProblem(number, "must be a number from 1 to 6", "score")
            fields["score"] = float(score)
        else:
            name = "verdict" if "verdict" in row or self.pairwise else "label"
            verdict = str(row.get(name, "")).strip().lower()
            allowed = PAIRWISE_VERDICTS if self.pairwise else LABEL_VERDICTS
            if verdict not in allowed:
                return None, RowProblem(number, f"must be one of {sorted(allowed)}", name)
            fields["verdict"] = verdict
        if kind == Study.Kind.DIALOGUE and "turn_labels" in row:
            labels = row["turn_labels"]
            if not isinstance(labels, list) or not all(
                isinstance(x, str) and x.lower() in LABEL_VERDICTS for x in labels
            ):
                return None, RowProblem(
                    number, "must be a list of fail/pass/excellent", "turn_labels"
                )
            fields["turn_labels"] = [x.lower() for x in labels]
        for name, kinds in (("comment", str), ("raw_choice", str), ("time_on_task_ms", int)):
            if name not in row or row[name] is None:
                continue
            value = row[name]
            if (
                not isinstance(value, kinds)
                or isinstance(value, bool)
                or (isinstance(value, int) and not 0 <= value < 2**31)
            ):
                return None, RowProblem(number, f"must be a {kinds.__name__}", name)
            fields[name] = value[:100] if name == "raw_choice" else value
        return fields, None


def _fingerprint(fields: dict[str, Any]) -> tuple[Any, ...]:
    return (
        fields["item_id"], fields["order"], fields.get("verdict", ""), fields.get("score"),
        fields.get("raw_choice", ""),
    )  # fmt: skip


@transaction.atomic
def judgments_import(
    *, study: Study, rows: list[Row], judge_group: str, imported_from: str
) -> JudgmentImportResult:
    """Add one Judgment per row to `study`'s items, grouped as `judge_group` (e.g. "crowd",
    "author", "llm:gpt-4") and marked `imported_from` (a file or source name).

    Raises InputError (nothing written) for any bad row, a study without items, or a second
    import under the same name whose rows differ; identical rows again change nothing."""
    judge_group, imported_from = judge_group.strip(), imported_from.strip()
    if not judge_group or len(judge_group) > 120:
        raise InputError.single(0, "must be 1 to 120 characters", "judge_group")
    if not imported_from or len(imported_from) > 200:
        raise InputError.single(0, "must be 1 to 200 characters", "imported_from")
    reader = _RowReader(study)
    if not reader.items.ids:
        raise InputError.single(0, "the study has no items yet; launch it first", "study")
    problems: list[RowProblem] = []
    planned: list[dict[str, Any]] = []
    for number, row in rows:
        fields, problem = reader.read(number, row)
        if problem:
            problems.append(problem)
        else:
            planned.append(fields)
    if problems:
        raise InputError(problems)

    earlier = Judgment.objects.filter(
        item__study=study, judge_group=judge_group, imported_from=imported_from
    ).values("item_id", "order", "verdict", "score", "raw_choice")
    if earlier.exists():
        if Counter(map(_fingerprint, earlier)) == Counter(map(_fingerprint, planned)):
            return JudgmentImportResult(0, len(planned), judge_group, imported_from)
        raise InputError.single(
            0,
            f"{imported_from!r} was already imported for {judge_group!r} with other rows; "
            "import under another name",
            "imported_from",
        )
    Judgment.objects.bulk_create(
        [Judgment(judge_group=judge_group, imported_from=imported_from, **f) for f in planned],
        batch_size=2000,
    )
    judgments_bulk_written_send(study.pk)
    return JudgmentImportResult(len(planned), 0, judge_group, imported_from)
