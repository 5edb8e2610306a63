"""Turning a judge's answer into a verdict, and asking for structured answers.

Three verdict modes (`Judge.VerdictMode`):
- guided_choice: vLLM structured outputs restrict the answer to one of the choices;
- json_schema: the endpoint must return {"choice": <enum>} and nothing else;
- final_line: free text, of which only the last non-empty line is read, and it must be one
  choice in full. Verdict phrases or JSON quoted anywhere earlier (for example inside the
  responses being judged) are never looked at, so they cannot steer the verdict.
- weighted (pairwise only), as AlpacaEval 2's weighted annotators: one verdict token is asked
  for with `logprobs` and `top_logprobs`; P(A) is the probability mass of the "A" tokens over
  that of all verdict tokens among the top logprobs. The discrete verdict is the likelier one.
  Any OpenAI-compatible server that returns logprobs works.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from generation.judging.judge_prompts import PAIRWISE, JudgePromptTemplate

GUIDED_CHOICE = "guided_choice"
JSON_SCHEMA = "json_schema"
FINAL_LINE = "final_line"
WEIGHTED = "weighted"
VERDICT_MODES = (GUIDED_CHOICE, JSON_SCHEMA, FINAL_LINE, WEIGHTED)
# Weighted mode's verdict tokens (single letters are one token in every common tokenizer).
WEIGHTED_CHOICES = {"A": "A", "B": "B"}
WEIGHTED_SUFFIX = (
    "\n\nReply with one letter only: A if Answer A is better, B if Answer B is better."
)
TOP_LOGPROBS = 20  # the most OpenAI allows, and vLLM's default max_logprobs

# Decoration a model may put around a final answer line: a bullet or quote marker in front,
# and markdown emphasis or quotes on both sides. One-sided marks are not removed, so a line
# that ends inside a quotation is not mistaken for a bare choice.
_PREFIXES = ("- ", "* ", "> ")
_WRAPPERS = ("**", "__", "*", "_", "`", '"', "'")


@dataclass(frozen=True)
class ParsedAnswer:
    """The exact choice text picked and its meaning, or `error` when the answer is unusable."""

    choice: str = ""
    meaning: str = ""
    error: str = ""
    probability_a: float | None = None  # weighted mode: P(answer A better)

    @property
    def ok(self) -> bool:
        return not self.error


def request_extras(mode: str, instrument: JudgePromptTemplate) -> dict[str, Any]:
    """Keyword arguments for `chat.completions.create` that ask for a structured answer."""
    choices = list(instrument.choices)
    if mode == GUIDED_CHOICE:
        return {"extra_body": {"structured_outputs": {"choice": choices}}}
    if mode == WEIGHTED:
        return {"logprobs": True, "top_logprobs": TOP_LOGPROBS}
    if mode == JSON_SCHEMA:
        schema = {
            "type": "object",
            "properties": {"choice": {"type": "string", "enum": choices}},
            "required": ["choice"],
            "additionalProperties": False,
        }
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "verdict", "strict": True, "schema": schema},
            }
        }
    return {}


def parse_answer(mode: str, content: str | None, instrument: JudgePromptTemplate) -> ParsedAnswer:
    """Read one answer (one sample's message content) under `mode`."""
    if content is None or not content.strip():
        return ParsedAnswer(error="empty answer")
    if mode == GUIDED_CHOICE:
        return _match(content.strip(), instrument, exact=True)
    if mode == JSON_SCHEMA:
        return _parse_json(content, instrument)
    if mode == WEIGHTED:
        return parse_weighted(content, instrument)
    return parse_final_line(content, instrument)


def parse_weighted(content: str, instrument: JudgePromptTemplate) -> ParsedAnswer:
    """content: the transport's JSON {"content": token, "top_logprobs": {token: logprob}}.
    Tokens are compared stripped and case-sensitively ("a" is not a verdict)."""
    try:
        data = json.loads(content)
        top = {str(k): float(v) for k, v in data["top_logprobs"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return ParsedAnswer(error="no top_logprobs in the answer (does the server return them?)")
    mass: dict[str, float] = {}
    for token, logprob in top.items():
        meaning = instrument.choices.get(token.strip())
        if meaning is not None:
            mass[meaning] = mass.get(meaning, 0.0) + math.exp(logprob)
    total = sum(mass.values())
    if total <= 0:
        return ParsedAnswer(error=f"no verdict token among the top logprobs: {sorted(top)[:10]}")
    p_a = mass.get("A", 0.0) / total
    meaning = "A" if p_a > 0.5 else "B" if p_a < 0.5 else "tie"
    choice = next((c for c, m in instrument.choices.items() if m == meaning), "tie")
    return ParsedAnswer(choice=choice, meaning=meaning, probability_a=p_a)


def target_preference(answers: list[ParsedAnswer], order: str) -> float | None:
    """P(target better) from a weighted answer: P(A) when the target was shown first."""
    p_a = answers[0].probability_a if answers else None
    if p_a is None:
        return None
    return p_a if order == "target_first" else 1.0 - p_a


def parse_final_line(content: str, instrument: JudgePromptTemplate) -> ParsedAnswer:
    """The last non-empty line must be exactly one choice (ignoring case, markdown emphasis,
    quotes, a leading bullet and a trailing full stop). Nothing else in the text is read."""
    lines = [line for line in content.splitlines() if line.strip()]
    if not lines:
        return ParsedAnswer(error="empty answer")
    return _match(lines[-1], instrument, exact=False)


def _match(text: str, instrument: JudgePromptTemplate, *, exact: bool) -> ParsedAnswer:
    if exact:
        meaning = instrument.choices.get(text)
        if meaning is None:
            return ParsedAnswer(error=f"not one of the choices: {text[:200]!r}")
        return ParsedAnswer(choice=text, meaning=meaning)
    wanted = _normalise(text)
    for choice, meaning in instrument.choices.items():
        if _normalise(choice) == wanted:
            return ParsedAnswer(choice=choice, meaning=meaning)
    return ParsedAnswer(error=f"last line is not one of the choices: {text[:200]!r}")


def _normalise(line: str) -> str:
    text = line.strip()
    for prefix in _PREFIXES:
        text = text.removeprefix(prefix).strip()
    for _ in range(2):  # "**Neither is significantly better.**": unwrap, drop the stop, again
        for mark in _WRAPPERS:
            if len(text) > 2 * len(mark) and text.startswith(mark) and text.endswith(mark):
                text = text[len(mark) : -len(mark)].strip()
        text = text.removesuffix(".").strip()
    return text.casefold()


def _parse_json(content: str, instrument: JudgePromptTemplate) -> ParsedAnswer:
    # The whole answer must be the object: JSON found inside other text is not trusted.
    try:
        data = json.loads(content.strip())
    except ValueError:
        return ParsedAnswer(error="answer is not one JSON object")
    if not isinstance(data, dict) or set(data) != {"choice"} or not isinstance(data["choice"], str):
        return ParsedAnswer(error='answer is not exactly {"choice": <string>}')
    return _match(data["choice"], instrument, exact=True)


def pairwise_verdict(meaning: str, order: str) -> str:
    """Map "A" / "B" / "tie" to target / baseline / tie given the order shown."""
    if meaning == "tie":
        return "tie"
    target_is_a = order == "target_first"
    return "target" if (meaning == "A") == target_is_a else "baseline"


def combine_samples(
    instrument: JudgePromptTemplate, order: str, answers: list[ParsedAnswer]
) -> tuple[str, str, float | None]:
    """(raw_choice, verdict, score) from one or more parsed samples of one call.
    Likert: the mean score over samples; labels and pairwise use the first sample."""
    raw_choice = " | ".join(a.choice for a in answers)[:100]
    if instrument.scale == PAIRWISE:
        return raw_choice, pairwise_verdict(answers[0].meaning, order), None
    if instrument.scale == "likert":
        return raw_choice, "", sum(float(a.meaning) for a in answers) / len(answers)
    return raw_choice, answers[0].meaning, None
