"""Chatbot Arena battle rows, both published formats, read into one checked shape.

* `chatbot_arena_conversations`: question_id, model_a, model_b, winner (model_a | model_b |
  tie | tie (bothbad)), judge, conversation_a / conversation_b (lists of {role, content}),
  turn, anony, language, tstamp and, where present, conv_metadata (FastChat's style counts:
  sum_assistant_{a,b}_tokens and header/list/bold_count_{a,b}, ints or dicts of ints). Each
  count given for both sides is used as given; one given for neither side is counted by
  EvalHub (a conv_metadata may hold token counts only: FastChat's add_markdown_info.py adds
  the markdown counts to an existing one); one given for a single side is refused.
* arena-human-preference: id, model_a, model_b, prompt, response_a, response_b (JSON lists
  of turn texts, or strings holding such a list, as in the published CSV), and one-hot
  winner_model_a / winner_model_b / winner_tie.

Every problem names its line and field; nothing is read half.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from evalhub.importing import InputError, Row, RowProblem

WINNERS = ("model_a", "model_b", "tie", "tie (bothbad)")
STYLE_KEYS = {  # provenance["style"] name: FastChat's conv_metadata key for a side
    "tokens": "sum_assistant_{}_tokens",
    "headers": "header_count_{}",
    "lists": "list_count_{}",
    "bold": "bold_count_{}",
}
GIVEN_TOKENIZER = "given (conv_metadata)"  # names the tokens a row's conv_metadata gave
FORMAT_CONVERSATIONS = "chatbot_arena_conversations"
FORMAT_HUMAN_PREFERENCE = "arena_human_preference"
MAX_MODEL_NAME = 100


@dataclass(frozen=True, slots=True)
class ArenaBattle:
    """One battle: the user turns, each side's assistant turns, and who won."""

    line: int
    question_id: str
    model_a: str
    model_b: str
    winner: str
    judge: str
    user_turns: list[str]
    answers_a: list[str]
    answers_b: list[str]
    style_a: dict[str, int]  # the STYLE_KEYS counts conv_metadata gave (tokens, headers, ...)
    style_b: dict[str, int]
    meta: dict[str, Any] = field(default_factory=dict)


class _Problems:
    def __init__(self, line: int) -> None:
        self.line = line
        self.found: list[RowProblem] = []

    def add(self, name: str, message: str) -> None:
        self.found.append(RowProblem(self.line, message, name))


def _text(row: dict[str, Any], name: str, problems: _Problems, *, limit: int = 0) -> str:
    value = row.get(name)
    if isinstance(value, int) and not isinstance(value, bool) and name in ("question_id", "id"):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        problems.add(name, "is required and must be a non-blank string")
        return ""
    if "\x00" in value:
        problems.add(name, "holds a NUL character")
    if limit and len(value) > limit:
        problems.add(name, f"must be at most {limit} characters")
    return value


def _conversation(row: dict[str, Any], name: str, problems: _Problems) -> list[dict[str, str]]:
    turns = row.get(name)
    if not isinstance(turns, list) or not turns:
        problems.add(name, "must be a non-empty list of {role, content} turns")
        return []
    for i, turn in enumerate(turns):
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant"):
            problems.add(f"{name}[{i}].role", 'must be "user" or "assistant"')
            return []
        if not isinstance(turn.get("content"), str) or "\x00" in turn["content"]:
            problems.add(f"{name}[{i}].content", "must be a string without NUL characters")
            return []
    return turns


def _count(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, dict) and all(
        isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value.values()
    ):
        return sum(value.values())  # FastChat sums the per-kind counts
    return None


def _style(row: dict[str, Any], problems: _Problems) -> tuple[dict[str, int], dict[str, int]]:
    meta = row.get("conv_metadata")
    given: tuple[dict[str, int], dict[str, int]] = ({}, {})
    if meta is None:
        return given
    if not isinstance(meta, dict):
        problems.add("conv_metadata", "must be an object")
        return given
    for name, key in STYLE_KEYS.items():
        keys = (key.format("a"), key.format("b"))
        if not any(k in meta for k in keys):
            continue  # not given: EvalHub counts it from the answers
        for side, k, other in zip(given, keys, keys[::-1], strict=True):
            if k not in meta:
                # one side counted by FastChat and the other by EvalHub would skew the difference
                problems.add(f"conv_metadata.{k}", f"is missing while {other} is given")
            elif (value := _count(meta[k])) is None:
                problems.add(f"conv_metadata.{k}", "must be a count or an object of counts")
            else:
                side[name] = value
    return given


def _conversations_row(line: int, row: dict[str, Any], problems: _Problems) -> ArenaBattle:
    winner = row.get("winner")
    if winner not in WINNERS:
        problems.add("winner", f"must be one of {', '.join(WINNERS)}")
    conv_a = _conversation(row, "conversation_a", problems)
    conv_b = _conversation(row, "conversation_b", problems)
    user = [t["content"] for t in conv_a if t["role"] == "user"]
    answers_a = [t["content"] for t in conv_a if t["role"] == "assistant"]
    answers_b = [t["content"] for t in conv_b if t["role"] == "assistant"]
    if conv_a and (not user or not answers_a):
        problems.add("conversation_a", "needs a user turn and an assistant turn")
    if conv_b and not answers_b:
        problems.add("conversation_b", "needs an assistant turn")
    judge = row.get("judge")
    if judge is not None and not isinstance(judge, str):
        problems.add("judge", "must be a string")
    style_a, style_b = _style(row, problems)
    meta = {k: row[k] for k in ("turn", "anony", "language", "tstamp") if k in row}
    return ArenaBattle(
        line=line,
        question_id=_text(row, "question_id", problems, limit=200),
        model_a=_text(row, "model_a", problems, limit=MAX_MODEL_NAME),
        model_b=_text(row, "model_b", problems, limit=MAX_MODEL_NAME),
        winner=winner if winner in WINNERS else "",
        judge=judge if isinstance(judge, str) else "",
        user_turns=user,
        answers_a=answers_a,
        answers_b=answers_b,
        style_a=style_a,
        style_b=style_b,
        meta={"format": FORMAT_CONVERSATIONS, **meta},
    )


def _turn_list(row: dict[str, Any], name: str, problems: _Problems) -> list[str]:
    value = row.get(name)
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            problems.add(name, "must be a JSON list of turn texts")
            return []
    if not isinstance(value, list) or not value:
        problems.add(name, "must be a non-empty list of turn texts")
        return []
    if not all(v is None or isinstance(v, str) for v in value):
        problems.add(name, "must hold only strings (or null for an empty turn)")
        return []
    turns = [v or "" for v in value]
    if any("\x00" in t for t in turns):
        problems.add(name, "holds a NUL character")
    return turns


def _human_preference_row(line: int, row: dict[str, Any], problems: _Problems) -> ArenaBattle:
    flags = []
    for name in ("winner_model_a", "winner_model_b", "winner_tie"):
        value = row.get(name)
        if isinstance(value, bool) or value not in (0, 1):
            problems.add(name, "must be 0 or 1")
            value = 0
        flags.append(int(value))
    winner = ""
    if sum(flags) != 1:
        problems.add("winner_model_a", "exactly one of winner_model_a, winner_model_b, "
                     "winner_tie must be 1")  # fmt: skip
    else:
        winner = ("model_a", "model_b", "tie")[flags.index(1)]
    return ArenaBattle(
        line=line,
        question_id=_text(row, "id", problems, limit=200),
        model_a=_text(row, "model_a", problems, limit=MAX_MODEL_NAME),
        model_b=_text(row, "model_b", problems, limit=MAX_MODEL_NAME),
        winner=winner,
        judge="",
        user_turns=_turn_list(row, "prompt", problems),
        answers_a=_turn_list(row, "response_a", problems),
        answers_b=_turn_list(row, "response_b", problems),
        style_a={},
        style_b={},
        meta={"format": FORMAT_HUMAN_PREFERENCE},
    )


def read_arena_battles(rows: list[Row]) -> list[ArenaBattle]:
    """Battles from rows of either format (told apart per row by its fields).

    Raises InputError with every problem (line and field) when any row is bad."""
    if not rows:
        raise InputError.single(0, "the input is empty")
    battles: list[ArenaBattle] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line, row in rows:
        found = _Problems(line)
        if "conversation_a" in row or "winner" in row:
            battle = _conversations_row(line, row, found)
        elif "winner_model_a" in row or "response_a" in row:
            battle = _human_preference_row(line, row, found)
        else:
            found.add("", "is neither an Arena conversation (conversation_a, winner) nor an "
                      "arena-human-preference row (response_a, winner_model_a)")  # fmt: skip
            problems.extend(found.found)
            continue
        if battle.model_a and battle.model_a == battle.model_b:
            found.add("model_b", "must differ from model_a")
        if battle.question_id in seen:
            id_field = "question_id" if battle.meta["format"] == FORMAT_CONVERSATIONS else "id"
            found.add(id_field, f"repeats line {seen[battle.question_id]}")
        seen.setdefault(battle.question_id, line)
        problems.extend(found.found)
        battles.append(battle)
    if problems:
        raise InputError(problems)
    return battles
