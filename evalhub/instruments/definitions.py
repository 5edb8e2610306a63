"""What an instrument is, without the database: its definition (kind, texts, choices),
the checks a definition must pass, and how a rater's answer maps to the stored codes. The
presets are in evalhub.instruments.presets.

A pairwise choice names the side it prefers as shown ("A", "B" or "tie") and a weight (a
strong preference may count more, as in Arena-Hard); the stored verdict is from the
target's side. An absolute choice's value is the stored label; a scale choice carries its
score. Pure Python: the hot path and the judge use it without queries."""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

PAIRWISE = "pairwise"
ABSOLUTE = "absolute"
SCALE = "scale"
KINDS = (PAIRWISE, ABSOLUTE, SCALE)
NOMINAL, ORDINAL, INTERVAL = "nominal", "ordinal", "interval"
LEVELS = (NOMINAL, ORDINAL, INTERVAL)
OPTIONAL, REQUIRED = "optional", "required"
SIDES = ("A", "B", "tie")
MAX_CHOICES = 9
# The study kinds (evalhub.studies.models.Study.Kind values) each instrument kind can run.
STUDY_KINDS = {PAIRWISE: ("pairwise",), ABSOLUTE: ("absolute", "dialogue"), SCALE: ("likert",)}
_VALUE = re.compile(r"^[A-Za-z0-9_.=<>+-]{1,20}$")
_SLOT = re.compile(r"\{([a-z_]+)\}")
_JUDGE_SLOTS = {PAIRWISE: {"prompt", "response_a", "response_b"}}


class DefinitionError(ValueError):
    """A definition that cannot be used. `errors` maps each field (e.g. "choices[2].key")
    to what is wrong with it."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class AnswerError(ValueError):
    """An answer that does not fit the instrument; names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class Choice:
    key: int
    value: str
    label: str
    definition: str = ""
    side: str = ""  # pairwise: "A", "B" or "tie" (as shown)
    weight: float = 1.0  # pairwise: how many plain preferences it counts for
    score: float | None = None  # scale: the number

    @property
    def judge_text(self) -> str:
        """The answer the LLM judge gives for this choice: the score on a scale, else the
        label without its full stop (LIMA's options, as its judge template lists them)."""
        if self.score is not None:
            return _number(self.score)
        return self.label.rstrip(".")

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"key": self.key, "value": self.value, "label": self.label,
                                "definition": self.definition}  # fmt: skip
        if self.side:
            data.update(side=self.side, weight=self.weight)
        if self.score is not None:
            data["score"] = self.score
        return data


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Definition:
    """An instrument's content: everything its hash covers."""

    kind: str
    name: str
    question: str
    choices: tuple[Choice, ...]
    intro: str = ""
    levels: str = NOMINAL
    comment: str = OPTIONAL
    gold_choice: str = ""
    judge_template: str = ""
    credit: str = ""

    # --- the content and its hash -------------------------------------------------------

    def content(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "name": self.name, "intro": self.intro,
            "question": self.question, "choices": [c.as_json() for c in self.choices],
            "levels": self.levels, "comment": self.comment, "gold_choice": self.gold_choice,
            "judge_template": self.judge_template, "credit": self.credit,
        }  # fmt: skip

    @cached_property
    def content_hash(self) -> str:
        canonical = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()

    # --- lookups ------------------------------------------------------------------------

    @cached_property
    def by_value(self) -> dict[str, Choice]:
        return {c.value: c for c in self.choices}

    @cached_property
    def by_answer(self) -> dict[str, Choice]:
        """A stored raw choice (a rater's value or a judge's answer text) -> its choice."""
        found = {c.judge_text: c for c in self.choices}
        found.update(self.by_value)
        return found

    def mirror(self, choice: Choice) -> Choice:
        """The pairwise choice meaning the same with the sides swapped."""
        if choice.side not in ("A", "B"):
            return choice
        other = "B" if choice.side == "A" else "A"
        for c in self.choices:
            if c.side == other and c.weight == choice.weight:
                return c
        return choice

    def target_frame(self, raw_choice: str, order: str) -> Choice | None:
        """The choice as if the target had been shown as A."""
        choice = self.by_answer.get(raw_choice)
        if choice is None or order != "baseline_first":
            return choice
        return self.mirror(choice)

    @property
    def gold_answer(self) -> str:
        """What a gold item's stored verdict must be: the target (pairwise: any choice that
        prefers the target), else the gold choice's value."""
        return "target" if self.kind == PAIRWISE else self.gold_choice

    # --- answers ------------------------------------------------------------------------

    def _pick_message(self) -> str:
        names = [c.value if self.kind == PAIRWISE else c.label for c in self.choices]
        return f"pick {', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else "pick one"

    def answer_fields(
        self, study_kind: str, target_side: str, choice: str, labels: list[str] | None,
        turns: int, comment: str = "",
    ) -> dict[str, Any]:  # fmt: skip
        """raw_choice, verdict, score, order and turn_labels of an answer shown with the
        target on `target_side` (`turns`: a dialogue's turn count). AnswerError names the
        bad field."""
        if self.comment == REQUIRED and not comment.strip():
            raise AnswerError("comment", "a comment is required")
        if study_kind == "dialogue":
            labels = labels or []
            if len(labels) != turns or any(label not in self.by_value for label in labels):
                raise AnswerError("turn_labels", f"label each of the {turns} turns")
            return {"raw_choice": ",".join(labels), "turn_labels": labels, "verdict": "",
                    "score": None, "order": "single"}  # fmt: skip
        picked = self.by_value.get(choice)
        if picked is None:
            raise AnswerError("choice", self._pick_message())
        if self.kind == PAIRWISE:
            if picked.side == "tie":
                verdict = "tie"
            else:
                verdict = "target" if picked.side == target_side else "baseline"
            order = "target_first" if target_side == "A" else "baseline_first"
            return {"raw_choice": choice, "verdict": verdict, "score": None, "order": order,
                    "turn_labels": []}  # fmt: skip
        return {"raw_choice": choice, "verdict": choice, "score": picked.score,
                "order": "single", "turn_labels": []}  # fmt: skip

    # --- the judge ----------------------------------------------------------------------

    def judge_text(self) -> str:
        """The judge's prompt template: the instrument's own, else the rater's question and
        choices around the slots."""
        if self.judge_template:
            return self.judge_template
        options = "\n".join(
            f"- {c.judge_text}" + (f": {c.definition}" if c.definition else "")
            for c in self.choices
        )
        head = f"{self.intro}\n\n" if self.intro else ""
        if self.kind == PAIRWISE:
            body = "Question: {prompt}\n\nAnswer A: {response_a}\n\nAnswer B: {response_b}"
        else:
            body = "Question: {prompt}\n\nAnswer: {response}"
        return f"{head}{body}\n\n{self.question}\n{options}"

    def judge_meanings(self) -> dict[str, str]:
        """Judge answer text -> its meaning: the side shown (pairwise), the label, or the
        score as text."""
        if self.kind == PAIRWISE:
            return {c.judge_text: c.side for c in self.choices}
        return {c.judge_text: (c.judge_text if c.score is not None else c.value)
                for c in self.choices}  # fmt: skip

    def verdict_schema(self) -> dict[str, Any]:
        """The JSON schema a judge's structured answer must match: exactly these choices."""
        return {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": list(self.judge_meanings())}},
            "required": ["choice"],
            "additionalProperties": False,
        }


# --- reading and checking a definition ------------------------------------------------------


def definition_from_data(data: dict[str, Any]) -> Definition:
    """A Definition from JSON-like data (an API body, a stored row's fields). Raises
    DefinitionError with every bad field."""
    errors: dict[str, str] = {}
    kind = data.get("kind")
    if kind not in KINDS:
        errors["kind"] = f"must be one of {', '.join(KINDS)}"
    question = str(data.get("question") or "").strip()
    if not question:
        errors["question"] = "must not be empty"
    name = str(data.get("name") or "").strip()
    if not name:
        errors["name"] = "must not be empty"
    levels = data.get("levels") or (INTERVAL if kind == SCALE else NOMINAL)
    if levels not in LEVELS:
        errors["levels"] = f"must be one of {', '.join(LEVELS)}"
    comment = data.get("comment") or OPTIONAL
    if comment not in (OPTIONAL, REQUIRED):
        errors["comment"] = "must be optional or required"
    raw = data.get("choices")
    choices: list[Choice] = []
    if not isinstance(raw, list) or not raw:
        errors["choices"] = "must be a non-empty list"
        raw = []
    elif len(raw) > MAX_CHOICES:
        errors["choices"] = f"at most {MAX_CHOICES} choices (keys 1-9); got {len(raw)}"
    for i, item in enumerate(raw[:MAX_CHOICES] if isinstance(raw, list) else []):
        choice = _choice(item, i, kind, errors)
        if choice is not None:
            choices.append(choice)
    _check_choices(choices, kind, errors)
    gold = str(data.get("gold_choice") or "")
    if gold and kind != PAIRWISE and gold not in {c.value for c in choices}:
        errors["gold_choice"] = f"{gold!r} is not one of the choices' values"
    template = str(data.get("judge_template") or "")
    if template and kind in KINDS:
        slots = set(_SLOT.findall(template))
        wanted = _JUDGE_SLOTS.get(kind, {"prompt", "response"})
        if slots != wanted:
            errors["judge_template"] = (
                f"needs exactly the slots {sorted(wanted)}; found {sorted(slots)}"
            )
    for text_field in ("name", "intro", "question", "judge_template", "credit"):
        if "\x00" in str(data.get(text_field) or ""):
            errors[text_field] = "must not contain NUL characters"
    if len(name) > 200:
        errors["name"] = "at most 200 characters"
    if errors:
        raise DefinitionError(errors)
    return Definition(
        kind=kind, name=name, question=question, choices=tuple(choices),
        intro=str(data.get("intro") or "").strip(), levels=levels, comment=comment,
        gold_choice="" if kind == PAIRWISE else gold, judge_template=template,
        credit=str(data.get("credit") or "").strip(),
    )  # fmt: skip


def _choice(item: Any, i: int, kind: Any, errors: dict[str, str]) -> Choice | None:
    at = f"choices[{i}]"
    if not isinstance(item, dict):
        errors[at] = "must be an object"
        return None
    key = item.get("key", i + 1)
    if not isinstance(key, int) or isinstance(key, bool) or not 1 <= key <= 9:
        errors[f"{at}.key"] = "must be a whole number from 1 to 9"
    label = str(item.get("label") or "").strip()
    if not label or "\n" in label or "\x00" in label:
        errors[f"{at}.label"] = "must be one non-empty line"
    if "\x00" in str(item.get("definition") or ""):
        errors[f"{at}.definition"] = "must not contain NUL characters"
    value = str(item.get("value") or "")
    if not _VALUE.match(value):
        errors[f"{at}.value"] = "1-20 characters: letters, digits, _ . = < > + -"
    side, weight, score = "", 1.0, None
    if kind == PAIRWISE:
        side = item.get("side", "")
        if side not in SIDES:
            errors[f"{at}.side"] = "must map to A, B or tie (the side it prefers as shown)"
        weight = item.get("weight", 1)
        if (not isinstance(weight, int | float) or isinstance(weight, bool)
                or not math.isfinite(weight) or weight <= 0):  # fmt: skip
            errors[f"{at}.weight"] = "must be a positive number"
            weight = 1.0
    elif kind == SCALE:
        score = item.get("score")
        number = isinstance(score, int | float) and not isinstance(score, bool)
        if not number or not math.isfinite(score):
            errors[f"{at}.score"] = "a scale choice needs a number"
            score = None
    if any(k.startswith(at) for k in errors):
        return None
    return Choice(key=key, value=value, label=label,
                  definition=str(item.get("definition") or "").strip(), side=side,
                  weight=float(weight), score=None if score is None else float(score))  # fmt: skip


def _check_choices(choices: list[Choice], kind: Any, errors: dict[str, str]) -> None:
    for name in ("key", "value", "label"):
        seen: set[Any] = set()
        for i, c in enumerate(choices):
            if getattr(c, name) in seen:
                errors[f"choices[{i}].{name}"] = f"duplicate {name} {getattr(c, name)!r}"
            seen.add(getattr(c, name))
    if kind == PAIRWISE and choices:
        sides = {c.side for c in choices}
        if not {"A", "B"} <= sides:
            errors["choices"] = "a pairwise instrument needs choices for both sides (A and B)"
        else:
            a = sorted(c.weight for c in choices if c.side == "A")
            b = sorted(c.weight for c in choices if c.side == "B")
            if a != b:
                errors["choices"] = "each preference for A needs its mirror for B (same weight)"
