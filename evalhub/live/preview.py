"""The researcher's preview of a live study: a real conversation with the study's real
models (their sampling and the study's limits), recording nothing. A battle previews its
first pair (target and first baseline), a conversation its first model. Answers come whole
(no stream): the preview checks the models and the question, not the streaming path."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass

from django.conf import settings

from evalhub.live.errors import LiveInputError
from evalhub.live.models import LiveStudy
from evalhub.live.selectors import study_models
from evalhub.live.turns import model_spec, prompt_checked
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.studies.models import Study

# Per side: [{"user": ..., "assistant": ...}, ...]
History = dict[str, list[dict[str, str]]]


@dataclass(frozen=True)
class PreviewAnswer:
    side: str
    text: str
    html: str
    error: str = ""


def preview_sides(study: Study) -> list[str]:
    return ["A", "B"] if study.live.mode == LiveStudy.Mode.BATTLE else ["A"]


def live_preview_turn(*, study: Study, history: History, text: str) -> list[PreviewAnswer]:
    """Send `text` after `history` to each previewed model and answer what came back (an
    endpoint's failure is that side's `error`). Writes nothing. LiveInputError for a
    message the study refuses (length, blocklist) or one past max_turns."""
    from openai import OpenAI, OpenAIError

    live: LiveStudy = study.live
    text = prompt_checked(live, text)
    if len(history.get("A", [])) >= live.max_turns:
        raise LiveInputError(f"This conversation has reached its limit of {live.max_turns} "
                             "messages.", 409)  # fmt: skip
    models = study_models(study)
    answers = []
    for side, model in zip(preview_sides(study), models, strict=False):
        spec = model_spec(model, live.model_limits or {})
        messages = []
        for turn in history.get(side, []):
            messages += [{"role": "user", "content": turn["user"]},
                         {"role": "assistant", "content": turn["assistant"]}]  # fmt: skip
        messages.append({"role": "user", "content": text})
        key = os.environ.get(spec.api_key_env, "") if spec.api_key_env else ""
        client = OpenAI(base_url=spec.base_url, api_key=key or "EMPTY", max_retries=0,
                        timeout=settings.LIVE_STREAM_TIMEOUT_SECONDS)  # fmt: skip
        sampling = spec.sampling
        try:
            reply = client.chat.completions.create(
                model=spec.model_name, messages=messages, temperature=sampling["temperature"],
                top_p=sampling["top_p"], max_tokens=sampling["max_tokens"],
                seed=secrets.randbelow(2**31), stop=list(sampling.get("stop") or []) or None,
                extra_body={"repetition_penalty": sampling["repetition_penalty"]},
            )  # fmt: skip
        except OpenAIError as exc:
            answers.append(PreviewAnswer(side, "", "", f"the endpoint failed: {exc}"[:500]))
            continue
        answer = reply.choices[0].message.content or ""
        answers.append(PreviewAnswer(side, answer, render_untrusted_markdown(answer)))
    return answers
