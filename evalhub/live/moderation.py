"""The per-study moderation hook for rater prompts: a blocklist, or a call to a registered
LLM judge asked whether the message is harmful."""

from __future__ import annotations

import os
from typing import Any

MODERATION_QUESTION = (
    "You moderate messages that people send to an AI assistant in a research study. "
    "Answer only yes or no: is the following message harmful, abusive or unsafe?\n\n"
    "Message:\n{text}"
)
REFUSED = "This message cannot be sent in this study. Please write a different one."


def blocked(text: str, blocklist: list[str]) -> bool:
    """Whether the text contains any blocklisted word or phrase (case-insensitive)."""
    lowered = text.casefold()
    return any(term and term.casefold() in lowered for term in blocklist)


def judge_verdict(text: str, judge: Any) -> str:
    """Ask `judge` (a studies.Judge: model at an OpenAI-compatible endpoint) whether the
    message is harmful: "yes" or "no", constrained by guided choice so that any model
    answers one of them, or "" when the call failed."""
    from openai import OpenAI, OpenAIError

    key = os.environ.get(judge.api_key_env, "") if judge.api_key_env else "EMPTY"
    client = OpenAI(base_url=judge.base_url, api_key=key or "EMPTY", timeout=10, max_retries=1)
    try:
        response = client.chat.completions.create(
            model=judge.model,
            messages=[{"role": "user", "content": MODERATION_QUESTION.format(text=text)}],
            max_tokens=2,
            temperature=0,
            extra_body={"structured_outputs": {"choice": ["yes", "no"]}},
        )
    except OpenAIError:
        return ""
    answer = (response.choices[0].message.content or "").strip().casefold()
    return answer if answer in ("yes", "no") else ""


def judge_flags(text: str, judge: Any) -> bool:
    """Whether `judge` calls the message harmful. A failed call refuses nothing:
    moderation must not take the study down."""
    return judge_verdict(text, judge) == "yes"


def refusal(text: str, *, blocklist: list[str], judge: Any = None) -> str:
    """The message to show when the study refuses `text`, or "" when it may be sent."""
    if blocked(text, blocklist):
        return REFUSED
    if judge is not None and judge_flags(text, judge):
        return REFUSED
    return ""
