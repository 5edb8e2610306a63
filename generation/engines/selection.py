"""Which engine answers a model's prompts: the warm vLLM engine of this worker process for
local models, an OpenAI-compatible client for API models (each imported on first use: the
vLLM engine is heavy)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from generation.engines import GenerationEngine, GenerationError

if TYPE_CHECKING:
    from evalhub.outputs.models import ModelEntry


def engine_for(model: ModelEntry) -> GenerationEngine:
    """The engine for a model entry; raises GenerationError if it cannot generate."""
    from evalhub.outputs.models import ModelEntry

    if model.kind == ModelEntry.Kind.LOCAL:
        from generation.engines.vllm_engine import warm_vllm_engine

        return warm_vllm_engine(
            model_path=model.model_path, tensor_parallel_size=model.tensor_parallel_size
        )
    if model.kind == ModelEntry.Kind.API:
        from generation.engines.openai_engine import OpenAICompatibleEngine

        return OpenAICompatibleEngine.for_model(model)
    raise GenerationError(
        f"model {model.slug!r} is {model.get_kind_display().lower()}: its outputs are "
        "submitted, not generated"
    )
