"""The tiny checkpoint loads like a real one with transformers (vLLM loads it in the worker
tests): Llama config, a tokenizer with a chat template and a distinct end-of-turn token.

torch and transformers are imported inside the tests: every xdist worker collects this
module, and most run none of its tests."""

import json

import pytest

from generation.tiny_model import EOT, build_tiny_model


@pytest.fixture(scope="module")
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def test_the_config_is_a_small_llama_with_64_wide_heads(tiny_model_dir):
    config = json.loads((tiny_model_dir / "config.json").read_text())
    assert config["architectures"] == ["LlamaForCausalLM"]
    assert config["hidden_size"] == 128
    assert config["hidden_size"] // config["num_attention_heads"] == 64
    assert config["max_position_embeddings"] == 2048
    assert (tiny_model_dir / "model.safetensors").exists()


def test_the_tokenizer_has_an_end_of_turn_token_apart_from_eos_and_pad(tokenizer):
    eot = tokenizer.convert_tokens_to_ids(EOT)
    assert eot not in {tokenizer.eos_token_id, tokenizer.pad_token_id, tokenizer.unk_token_id}
    assert 1000 <= len(tokenizer) <= 2000
    text = "How do I brew good coffee?"
    assert tokenizer.decode(tokenizer.encode(text)) == text  # byte-level: lossless


def test_the_chat_template_ends_each_turn_and_opens_the_answer(tokenizer):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Tell me more."},
    ]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    assert text == (
        "<|bos|><|user|>\nHi<|eot|>\n<|assistant|>\nHello.<|eot|>\n"
        "<|user|>\nTell me more.<|eot|>\n<|assistant|>\n"
    )


def test_generation_stops_at_the_end_of_turn(tiny_model_dir, tokenizer):
    import torch
    from transformers import AutoModelForCausalLM, GenerationConfig

    config = GenerationConfig.from_pretrained(tiny_model_dir)
    assert tokenizer.convert_tokens_to_ids(EOT) in config.eos_token_id
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    ids = tokenizer.apply_chat_template(
        [{"role": "user", "content": "Hi"}], add_generation_prompt=True, return_tensors="pt"
    )
    ids = ids["input_ids"] if not isinstance(ids, torch.Tensor) else ids
    out = model.generate(ids, max_new_tokens=8, do_sample=True, top_p=0.9, temperature=0.7)
    assert out.shape[1] > ids.shape[1]


def test_building_is_deterministic_for_a_seed(tmp_path):
    a = build_tiny_model(tmp_path / "a", seed=3)
    b = build_tiny_model(tmp_path / "b", seed=3)
    assert (a / "model.safetensors").read_bytes() == (b / "model.safetensors").read_bytes()
    assert (a / "tokenizer.json").read_text() == (b / "tokenizer.json").read_text()
