"""Optimizer steps count examples; packed examples never attend to each other.

torch, transformers and training.engine.batching (which imports torch) are imported inside
the tests: every xdist worker collects this module, and most run none of its tests."""

import pytest

from training.engine.conversations import encode_conversation, tokenizer_add_eot


def test_a_step_takes_batch_size_examples_and_the_last_takes_the_rest():
    from training.engine.batching import step_batches

    batches = step_batches(list(range(1000)), 32)
    assert len(batches) == 32 and [len(b) for b in batches[:31]] == [32] * 31
    assert len(batches[-1]) == 8


def test_micro_batches_hold_every_example_once_within_the_token_budget():
    from training.engine.batching import micro_batches

    lengths = [900, 300, 1500, 2048, 10, 700, 1200]
    groups = micro_batches(range(7), lengths, token_budget=2048)
    assert sorted(i for g in groups for i in g) == list(range(7))
    assert all(sum(lengths[i] for i in g) <= 2048 for g in groups)


def test_processes_split_a_step_and_run_as_many_passes_as_the_busiest(tiny_model_dir):
    from transformers import AutoTokenizer

    from training.engine.batching import plan_step

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|eot|>")
    examples = [
        encode_conversation(["q" * (n + 1), "a" * (n + 1)], tokenizer, eot_id=eot_id, max_length=64)
        for n in range(5)
    ]
    plans = [
        plan_step([0, 1, 2, 3, 4], examples, token_budget=64, process_index=r, num_processes=2)
        for r in range(2)
    ]
    assert sorted(i for plan, _ in plans for g in plan.micro_batches for i in g) == [0, 1, 2, 3, 4]
    assert plans[0][0].trained_tokens == plans[1][0].trained_tokens  # the global count
    assert plans[0][1] == plans[1][1] == max(len(p.micro_batches) for p, _ in plans)


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_packed_examples_do_not_attend_to_each_other(tiny_model_dir, attention):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.engine.batching import block_causal_mask, pack

    """Each example's logits inside a packed row equal its logits alone: no token of one
    example sees a token of another."""
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, attn_implementation=attention)
    model.eval()
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|eot|>")
    rows = [["How do I make coffee?", "Grind fresh beans."], ["Explain recursion.", "A copy."]]
    examples = [encode_conversation(r, tokenizer, eot_id=eot_id, max_length=64) for r in rows]
    packed = pack(examples)
    assert packed["position_ids"][0].tolist() == [
        *range(len(examples[0].input_ids)),
        *range(len(examples[1].input_ids)),
    ]
    # The shifted targets never cross from one example into the next.
    first = len(examples[0].input_ids)
    assert packed["targets"][0, first - 1].item() == -100
    mask = block_causal_mask(packed["lengths"], additive=attention == "eager")
    assert mask[0, 0, first, first - 1].item() in (
        False,
        torch.finfo(torch.float32).min,
    )  # example 2 cannot see example 1
    with torch.no_grad():
        together = model(
            input_ids=packed["input_ids"],
            position_ids=packed["position_ids"],
            attention_mask=mask,
        ).logits
        alone = [model(input_ids=torch.tensor([e.input_ids])).logits for e in examples]
    torch.testing.assert_close(together[:, :first], alone[0], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(together[:, first:], alone[1], rtol=1e-4, atol=1e-5)
    # Without the mask the second example would see the first: the check bites.
    with torch.no_grad():
        leaky = model(input_ids=packed["input_ids"], position_ids=packed["position_ids"]).logits
    assert not torch.allclose(leaky[:, first:], alone[1], atol=1e-3)
