"""Decoding settings: LIMA's defaults, per-model and per-job overrides, and sample seeds.

One `Sampling` value describes how every output of a generation job is decoded. It is
built from three layers (LIMA defaults < the model entry's generation_config < the job's
overrides), validated with errors that name the field, and recorded whole in provenance."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass, field
from typing import Any

# LIMA section 3 / appendix: nucleus sampling p=0.9, temperature 0.7, repetition penalty
# 1.2 on previously generated tokens, at most 2048 tokens.
LIMA_DEFAULTS: dict[str, Any] = {
    "temperature": 0.7,
    "top_p": 0.9,
    "repetition_penalty": 1.2,
    "max_tokens": 2048,
    "seed": 0,
}

_RANGES: dict[str, tuple[type, float, float]] = {
    "temperature": (float, 0.0, 10.0),
    "top_p": (float, 0.0, 1.0),
    "repetition_penalty": (float, 0.01, 10.0),
    "max_tokens": (int, 1, 1_000_000),
    "seed": (int, 0, 2**31 - 1),
}


class SamplingError(ValueError):
    """A decoding setting is unknown or out of range; the message names the field."""


@dataclass(frozen=True)
class Sampling:
    """How to decode. `max_tokens` counts completion tokens; `seed` is the job's base seed,
    from which each (prompt, sample) gets its own seed (`sample_seed`). `stop` are extra stop
    strings; the model's end-of-turn token always stops generation too."""

    temperature: float = LIMA_DEFAULTS["temperature"]
    top_p: float = LIMA_DEFAULTS["top_p"]
    repetition_penalty: float = LIMA_DEFAULTS["repetition_penalty"]
    max_tokens: int = LIMA_DEFAULTS["max_tokens"]
    seed: int = LIMA_DEFAULTS["seed"]
    stop: tuple[str, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {**dataclasses.asdict(self), "stop": list(self.stop)}


def _checked(name: str, value: Any, source: str) -> Any:
    if name == "stop":
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list | tuple) or not all(isinstance(s, str) for s in value):
            raise SamplingError(f"{source}: 'stop' must be a string or a list of strings")
        return tuple(value)
    kind, low, high = _RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SamplingError(f"{source}: {name!r} must be a number, not {value!r}")
    if kind is int and value != int(value):
        raise SamplingError(f"{source}: {name!r} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise SamplingError(f"{source}: {name!r} must be between {low} and {high}, not {value!r}")
    return kind(value)


def sampling_from(*layers: tuple[str, dict[str, Any] | None]) -> Sampling:
    """Merge (source name, settings) layers over LIMA's defaults, later layers winning.

    Raises SamplingError naming the source and field for an unknown key or a bad value,
    e.g. `sampling_from(("model tiny generation_config", {...}), ("job overrides", {...}))`."""
    values: dict[str, Any] = {}
    known = {f.name for f in dataclasses.fields(Sampling)}
    for source, settings in layers:
        if not settings:
            continue
        if not isinstance(settings, dict):
            raise SamplingError(f"{source}: must be an object of decoding settings")
        for name, value in settings.items():
            if name not in known:
                raise SamplingError(
                    f"{source}: unknown decoding setting {name!r}; use {sorted(known)}"
                )
            values[name] = _checked(name, value, source)
    return Sampling(**values)


def sample_seed(base_seed: int, prompt_key: str, sample_index: int) -> int:
    """The seed of one (prompt, sample): stable across runs and resumes, distinct per
    sample, and independent of batch order. 31 bits so every engine accepts it."""
    digest = hashlib.sha256(f"{base_seed}:{prompt_key}:{sample_index}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def chat_template_sha256(template: str | None) -> str:
    """sha256 hex of the chat template text ("" when the tokenizer has none)."""
    return hashlib.sha256(template.encode()).hexdigest() if template else ""
