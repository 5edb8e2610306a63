"""The one small interface that generation services call, whatever answers the prompts.

`generation.engines.selection.engine_for(model)` returns a `GenerationEngine` for a model
entry: the warm vLLM engine of this worker process for local models, an OpenAI-compatible
client for API models. Both take the same `GenerationRequest`s and yield `Completion`s in
chunks as they finish."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from generation.sampling import Sampling

# vLLM, like Hugging Face transformers, penalises every token already in the context,
# the prompt's included; LIMA describes a penalty on previously generated tokens.
REPETITION_PENALTY_SCOPE = "prompt and generated tokens"


class GenerationError(Exception):
    """Generation cannot go on (bad model entry, engine failure); the message says why."""


@dataclass(frozen=True)
class GenerationRequest:
    """One sample to generate. `key` is the caller's (prompt id, sample index); `messages`
    are chat messages ({"role", "content"}); `seed` makes the sample reproducible."""

    key: tuple[int, int]
    messages: list[dict[str, str]]
    seed: int


@dataclass(frozen=True)
class Completion:
    """One finished sample. Token counts are the engine's; `finish_reason` is "stop" (end of
    turn or a stop string) or "length" (max_tokens or the context ran out). `provenance`
    holds what the engine knows about this one sample beyond the shared description."""

    key: tuple[int, int]
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str
    seed: int
    provenance: dict[str, Any]


class GenerationEngine(Protocol):
    def describe(self) -> dict[str, Any]:
        """Provenance shared by every output of this engine: engine name and version, model,
        chat-template sha256, stop tokens, parallelism."""
        ...

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        sampling: Sampling,
        *,
        chunk_size: int,
        on_tick: Callable[[], None] | None = None,
    ) -> Iterator[list[Completion]]:
        """Generate every request; yield lists of at most `chunk_size` finished completions
        as soon as that many are done (the last list may be shorter). `on_tick` is called
        every few seconds while waiting, so callers can heartbeat or stop; an exception it
        raises aborts the remaining requests. Closing the iterator early aborts them too."""
        ...
