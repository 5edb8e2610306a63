"""API-hosted models behind any OpenAI-compatible chat endpoint (OpenAI, a gateway, vllm serve).

The base URL comes from the model entry, the key from the environment variable that the entry
names (never stored). Requests run a few at a time on threads; the openai client retries 429s,
5xx and timeouts with backoff. LIMA's parameters are sent where the endpoint takes them:
`repetition_penalty` is not part of OpenAI's API, so it goes in the request body as an extra
and is dropped (and recorded as not applied) if the endpoint refuses it."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from generation.engines import (
    REPETITION_PENALTY_SCOPE,
    Completion,
    GenerationError,
    GenerationRequest,
)
from generation.sampling import Sampling

if TYPE_CHECKING:
    from evalhub.outputs.models import ModelEntry

CONCURRENCY = 8
TIMEOUT_SECONDS = 600.0
MAX_RETRIES = 5
TICK_SECONDS = 5.0


@dataclass
class OpenAICompatibleEngine:
    """A chat-completions client for one model name at one endpoint."""

    base_url: str
    model_name: str
    api_key: str
    concurrency: int = CONCURRENCY
    # Learned on the first refusal, then kept for the rest of the job.
    repetition_penalty_supported: bool = True

    @classmethod
    def for_model(cls, model: ModelEntry) -> OpenAICompatibleEngine:
        """Raises GenerationError naming the missing field or environment variable."""
        if not model.base_url:
            raise GenerationError(f"API model {model.slug!r} has no base_url")
        if not model.model_path:
            raise GenerationError(
                f"API model {model.slug!r} has no model_path (the model name at the endpoint)"
            )
        api_key = "EMPTY"  # a local `vllm serve` takes any key
        if model.api_key_env:
            api_key = os.environ.get(model.api_key_env, "")
            if not api_key:
                raise GenerationError(
                    f"API model {model.slug!r} needs the environment variable "
                    f"{model.api_key_env} on the worker"
                )
        return cls(base_url=model.base_url, model_name=model.model_path, api_key=api_key)

    def describe(self) -> dict[str, Any]:
        import openai

        return {
            "engine": "openai-compatible",
            "engine_version": f"openai-python {openai.__version__}",
            "base_url": self.base_url,
            "model_name": self.model_name,
            # The endpoint applies its own template; we cannot see it.
            "chat_template_sha256": "",
            "repetition_penalty_scope": REPETITION_PENALTY_SCOPE,
        }

    def _client(self) -> Any:
        from openai import OpenAI

        return OpenAI(
            base_url=self.base_url,
            api_key=self.api_key,
            timeout=TIMEOUT_SECONDS,
            max_retries=MAX_RETRIES,
        )

    def request_body(self, request: GenerationRequest, sampling: Sampling) -> dict[str, Any]:
        """Keyword arguments of chat.completions.create for one sample."""
        body: dict[str, Any] = {
            "model": self.model_name,
            "messages": request.messages,
            "temperature": sampling.temperature,
            "top_p": sampling.top_p,
            "max_tokens": sampling.max_tokens,
            "seed": request.seed,
            "n": 1,
        }
        if sampling.stop:
            body["stop"] = list(sampling.stop)
        if self.repetition_penalty_supported:
            body["extra_body"] = {"repetition_penalty": sampling.repetition_penalty}
        return body

    def _complete(self, client: Any, request: GenerationRequest, sampling: Sampling) -> Completion:
        import openai

        try:
            response = client.chat.completions.create(**self.request_body(request, sampling))
        except openai.BadRequestError as exc:
            if self.repetition_penalty_supported and "repetition_penalty" in str(exc):
                self.repetition_penalty_supported = False
                return self._complete(client, request, sampling)
            raise GenerationError(
                f"the endpoint refused prompt {request.key[0]} sample {request.key[1]}: {exc}"
            ) from exc
        except openai.OpenAIError as exc:
            raise GenerationError(f"the endpoint {self.base_url} failed: {exc}") from exc
        choice = response.choices[0]
        usage = response.usage
        return Completion(
            key=request.key,
            text=choice.message.content or "",
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            finish_reason=choice.finish_reason or "unknown",
            seed=request.seed,
            provenance={
                "response_model": response.model,
                "system_fingerprint": response.system_fingerprint,
                "repetition_penalty_applied": self.repetition_penalty_supported,
            },
        )

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        sampling: Sampling,
        *,
        chunk_size: int,
        on_tick: Callable[[], None] | None = None,
    ) -> Iterator[list[Completion]]:
        client = self._client()
        pending: list[Completion] = []
        queue = list(reversed(requests))
        with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
            running: set[Future[Completion]] = set()
            try:
                while queue or running:
                    while queue and len(running) < self.concurrency:
                        running.add(pool.submit(self._complete, client, queue.pop(), sampling))
                    done, running = wait(running, timeout=TICK_SECONDS, return_when=FIRST_COMPLETED)
                    pending.extend(future.result() for future in done)
                    while len(pending) >= chunk_size:
                        yield pending[:chunk_size]
                        pending = pending[chunk_size:]
                    if on_tick:
                        on_tick()
                if pending:
                    yield pending
            finally:
                queue.clear()
                for future in running:
                    future.cancel()
