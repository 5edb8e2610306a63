"""A judge's effective configuration, split into what can change a verdict (hashed into the
version and the cache key) and what only changes how calls are made (never hashed).

Judge.params keys (all optional):
- verdict-changing: temperature (default 0; Likert 1.0), max_tokens, top_p, seed,
  samples (answers asked per output in one call with `n`; LIMA Likert: 5), scale and
  choices (custom templates only), extra_body (an object merged into every request body, for
  a server's own options, e.g. vLLM's `{"top_k": 1}`; merged one level deep, so it can add
  keys to the verdict mode's own `structured_outputs`).
- operational: concurrency (requests in flight per endpoint, per process; default 64),
  rpm / tpm (requests and tokens per minute shared by every worker through Redis; unset means
  unlimited), timeout_s (per call, default 60), max_attempts (tries per call before an
  explicit failure, default 6), max_reasks (re-asks after an unparseable answer, default 2),
  backoff_base_s (default 1), backoff_max_s (default 60).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Any

from generation.judging.judge_prompts import (
    FINAL_LINE_SUFFIX,
    INSTRUMENT,
    JSON_SUFFIX,
    LIKERT,
    UNBOUND,
    JudgePromptTemplate,
    builtin_prompt_template,
    custom_prompt_template,
    study_prompt_template,
)
from generation.judging.verdicts import (
    FINAL_LINE,
    JSON_SCHEMA,
    VERDICT_MODES,
    WEIGHTED,
    WEIGHTED_CHOICES,
    WEIGHTED_SUFFIX,
)

SAMPLING_PARAMS = {
    "temperature", "max_tokens", "top_p", "seed", "samples", "scale", "choices", "extra_body"
}  # fmt: skip
OPERATIONAL_DEFAULTS: dict[str, float | int | None] = {
    "concurrency": 64,
    "rpm": None,
    "tpm": None,
    "timeout_s": 60.0,
    "max_attempts": 6,
    "max_reasks": 2,
    "backoff_base_s": 1.0,
    "backoff_max_s": 60.0,
}


class JudgeConfigError(ValueError):
    """A judge whose configuration cannot run; the message names the field."""


@dataclass(frozen=True)
class JudgeConfig:
    """Everything a worker needs to call a judge, resolved from a `Judge` row."""

    model: str
    base_url: str
    api_key_env: str
    verdict_mode: str
    instrument: JudgePromptTemplate
    sampling: dict[str, Any]
    ops: dict[str, Any] = field(default_factory=dict)

    @property
    def samples(self) -> int:
        return int(self.sampling.get("samples", 1))

    @property
    def prompt_suffix(self) -> str:
        # Likert's own text already asks for the choice on the last line.
        if self.verdict_mode == FINAL_LINE and self.instrument.scale != LIKERT:
            return FINAL_LINE_SUFFIX
        if self.verdict_mode == JSON_SCHEMA:
            return JSON_SUFFIX
        if self.verdict_mode == WEIGHTED:
            return WEIGHTED_SUFFIX
        return ""

    @property
    def template_hash(self) -> str:
        return hashlib.sha256((self.instrument.text + self.prompt_suffix).encode()).hexdigest()

    @property
    def version_hash(self) -> str:
        """sha256 of model, template, verdict mode and verdict-changing params."""
        return canonical_hash(
            {
                "model": self.model,
                "template": self.template_hash,
                "verdict_mode": self.verdict_mode,
                "sampling": self.sampling,
                "choices": self.instrument.choices,
            }
        )

    def api_key(self) -> str:
        """The key from the environment variable the judge names; local servers need none."""
        if not self.api_key_env:
            return "EMPTY"
        key = os.environ.get(self.api_key_env)
        if not key:
            raise JudgeConfigError(f"api_key_env: environment variable {self.api_key_env} unset")
        return key

    def completion_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "temperature": self.sampling["temperature"],
            "max_tokens": self.sampling["max_tokens"],
        }
        if "top_p" in self.sampling:
            kwargs["top_p"] = self.sampling["top_p"]
        if self.samples > 1:
            kwargs["n"] = self.samples
        # A per-request seed with n > 1 kills vLLM's CPU engine ("CPU Generator does not use
        # offset"), and OpenAI does not promise seeded n > 1 either: seed single samples only.
        elif "seed" in self.sampling:
            kwargs["seed"] = self.sampling["seed"]
        return kwargs


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(
        json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    ).hexdigest()


def judge_config_from_fields(
    *,
    model: str,
    base_url: str,
    api_key_env: str,
    template: str,
    custom_template: str,
    params: dict[str, Any],
    verdict_mode: str,
    instrument: JudgePromptTemplate | None = None,
) -> JudgeConfig:
    """Validate and resolve a judge's fields. Raises JudgeConfigError naming the field.
    instrument: the study's (template "instrument" only; None: not bound to a study)."""
    if not model:
        raise JudgeConfigError("model: required")
    if not base_url.startswith(("http://", "https://")):
        raise JudgeConfigError(f"base_url: {base_url!r} is not an http(s) URL")
    if verdict_mode not in VERDICT_MODES:
        raise JudgeConfigError(f"verdict_mode: {verdict_mode!r}, expected one of {VERDICT_MODES}")
    if not isinstance(params, dict):
        raise JudgeConfigError("params: must be an object")
    unknown = set(params) - SAMPLING_PARAMS - set(OPERATIONAL_DEFAULTS)
    if unknown:
        raise JudgeConfigError(f"params: unknown keys {sorted(unknown)}")
    try:
        if template == INSTRUMENT:
            if custom_template or "scale" in params or "choices" in params:
                raise JudgeConfigError(
                    "custom_template/params.scale/choices: an instrument judge asks the "
                    "study's instrument"
                )
            instrument = instrument or UNBOUND
        elif template == "custom":
            instrument = custom_prompt_template(
                custom_template, scale=params.get("scale"), choices=params.get("choices")
            )
        else:
            if custom_template:
                raise JudgeConfigError("custom_template: only for template 'custom'")
            if "scale" in params or "choices" in params:
                raise JudgeConfigError("params.scale/choices: only for template 'custom'")
            instrument = builtin_prompt_template(template)
    except ValueError as exc:
        raise JudgeConfigError(str(exc)) from exc
    if verdict_mode == WEIGHTED:
        if instrument.scale != "pairwise":
            raise JudgeConfigError("verdict_mode: 'weighted' judges pairwise templates only")
        instrument = dataclasses.replace(instrument, choices=dict(WEIGHTED_CHOICES))

    is_likert = instrument.scale == LIKERT
    sampling: dict[str, Any] = {
        "temperature": float(params.get("temperature", 1.0 if is_likert else 0.0)),
        "samples": int(params.get("samples", 5 if is_likert else 1)),
        "max_tokens": int(params.get("max_tokens", _default_max_tokens(verdict_mode, instrument))),
    }
    for name in ("top_p", "seed"):
        if name in params:
            sampling[name] = params[name]
    if "extra_body" in params:
        if not isinstance(params["extra_body"], dict):
            raise JudgeConfigError("params.extra_body: must be an object")
        sampling["extra_body"] = params["extra_body"]
    if not 1 <= sampling["samples"] <= 16:
        raise JudgeConfigError("params.samples: must be between 1 and 16")
    if sampling["samples"] > 1 and not is_likert:
        raise JudgeConfigError("params.samples: more than one sample is for Likert scores only")
    if sampling["max_tokens"] < 1:
        raise JudgeConfigError("params.max_tokens: must be positive")
    ops = {k: params.get(k, default) for k, default in OPERATIONAL_DEFAULTS.items()}
    for name in ("concurrency", "max_attempts"):
        if int(ops[name]) < 1:
            raise JudgeConfigError(f"params.{name}: must be at least 1")
    return JudgeConfig(
        model=model,
        base_url=base_url.rstrip("/"),
        api_key_env=api_key_env,
        verdict_mode=verdict_mode,
        instrument=instrument,
        sampling=sampling,
        ops=ops,
    )


def _default_max_tokens(verdict_mode: str, instrument: JudgePromptTemplate) -> int:
    # Free text needs room to reason. A structured answer needs its longest choice, and a
    # token is at least one byte, so the byte length bounds it whatever the tokenizer.
    if verdict_mode == FINAL_LINE:
        return 1024
    if verdict_mode == WEIGHTED:
        return 1  # one verdict token; its logprobs carry the answer
    longest = max(len(choice.encode()) for choice in instrument.choices)
    return longest + (32 if verdict_mode == JSON_SCHEMA else 8)


def judge_config(judge: Any, study: Any = None) -> JudgeConfig:
    """Resolve a `studies.Judge` row; an "instrument" judge is bound to `study`'s
    instrument when one is given."""
    instrument = None
    if judge.template == INSTRUMENT and study is not None:
        try:
            instrument = study_prompt_template(study)
        except ValueError as exc:
            raise JudgeConfigError(str(exc)) from exc
    return judge_config_from_fields(
        instrument=instrument,
        model=judge.model,
        base_url=judge.base_url,
        api_key_env=judge.api_key_env,
        template=judge.template,
        custom_template=judge.custom_template,
        params=judge.params or {},
        verdict_mode=judge.verdict_mode,
    )
