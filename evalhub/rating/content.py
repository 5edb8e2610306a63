"""Item pages: what a rater sees, rendered and sanitised once at launch.

Also the attention-check content: a plainly broken response (a word salad made from a real
answer) that any attentive rater tells apart from a real one."""

from __future__ import annotations

import random
import re
from typing import Any

from evalhub.outputs.models import Output
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.prompts.models import Prompt

_WORD = re.compile(r"[A-Za-z][A-Za-z']*")
_FILLER = "the of and to it is a in that".split()


def output_html(output: Output) -> str:
    """The output's stored sanitised HTML, rendered now if it was stored without it."""
    return output.html or render_untrusted_markdown(output.text)


def context_pages(prompt: Prompt) -> list[dict[str, str]]:
    """Earlier turns of a multi-turn prompt as [{"role", "html"}]."""
    return [
        {
            "role": turn.get("role", "user"),
            "html": render_untrusted_markdown(turn.get("content", "")),
        }
        for turn in prompt.context
    ]


def dialogue_turns(prompt: Prompt, output: Output) -> list[dict[str, str]] | None:
    """The conversation of a dialogue item as [{"user", "assistant"}] texts, each assistant
    turn rated. `Output.turns` holds the model's assistant turns, one per user turn of the
    prompt (context user turns, then the final text); with no turns the output's text is
    the single rated answer to the final user turn, after the context as given.
    None when the turns do not fit the prompt."""
    user_turns = [t.get("content", "") for t in prompt.context if t.get("role") == "user"]
    user_turns.append(prompt.text)
    if output.turns:
        if len(output.turns) != len(user_turns):
            return None
        return [
            {"user": u, "assistant": str(a)} for u, a in zip(user_turns, output.turns, strict=True)
        ]
    return [{"user": prompt.text, "assistant": output.text}]


def broken_text(source: str, *, seed: int) -> str:
    """A plainly broken response: the words of `source` shuffled into a salad, lower-case,
    with stutters and no sentences. Deterministic for a seed."""
    words = [w.lower() for w in _WORD.findall(source)] or list(_FILLER)
    rng = random.Random(seed)
    while len(words) < 40:
        words = words + words
    picked = rng.sample(words, k=min(len(words), 60))
    for _ in range(6):  # stutter a few words
        at = rng.randrange(len(picked))
        picked[at:at] = [picked[at]] * 3
    return " ".join(picked)


def _chars(*texts: str) -> int:
    return sum(len(t) for t in texts)


def pairwise_page(
    prompt: Prompt, target: Output, baseline_html: str, baseline_text: str
) -> dict[str, Any]:
    """Fields of an ItemPage for a pairwise item (the baseline may be a gold salad)."""
    context_text = [t.get("content", "") for t in prompt.context]
    return {
        "context": context_pages(prompt),
        "prompt_html": render_untrusted_markdown(prompt.text),
        "target_html": output_html(target),
        "baseline_html": baseline_html,
        "reading_chars": _chars(prompt.text, *context_text, target.text, baseline_text),
    }


def single_page(prompt: Prompt, html: str, text: str) -> dict[str, Any]:
    """Fields of an ItemPage for an absolute (or Likert) item: one response."""
    context_text = [t.get("content", "") for t in prompt.context]
    return {
        "context": context_pages(prompt),
        "prompt_html": render_untrusted_markdown(prompt.text),
        "target_html": html,
        "reading_chars": _chars(prompt.text, *context_text, text),
    }


def dialogue_page(
    prompt: Prompt, turns: list[dict[str, str]], *, broken_seed: int | None = None
) -> dict[str, Any]:
    """Fields of an ItemPage for a dialogue item. With `broken_seed`, every assistant turn
    is replaced by a word salad (an attention check: every turn is a plain Fail)."""
    if broken_seed is not None:
        turns = [
            {"user": t["user"], "assistant": broken_text(t["assistant"], seed=broken_seed + i)}
            for i, t in enumerate(turns)
        ]
    earlier = [] if len(turns) > 1 else context_pages(prompt)
    return {
        "context": earlier,
        "turns": [
            {
                "user_html": render_untrusted_markdown(t["user"]),
                "assistant_html": render_untrusted_markdown(t["assistant"]),
            }
            for t in turns
        ],
        "reading_chars": _chars(*(t["user"] + t["assistant"] for t in turns)),
    }
