"""Token ids and labels of LIMA rows: EOT after every utterance, loss on the assistant.

transformers and training.engine.loop (which imports torch) are imported inside the tests:
every xdist worker collects this module, and most run none of its tests."""

import pytest

from training.engine.conversations import (
    IGNORE_INDEX,
    encode_conversation,
    lima_chat_template,
    token_length_stats,
    tokenizer_add_eot,
)
from training.recipes import RecipeSettings

DIALOGUE = ["How do I make coffee?", "Grind fresh beans.", "And then?", "Brew them."]


@pytest.fixture
def tokenizer(tiny_model_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_model_dir)


def spans(encoded, eot_id):
    """(ids, labels) of each utterance, split after each EOT (the BOS is dropped)."""
    ids, labels = encoded.input_ids[1:], encoded.labels[1:]
    out, start = [], 0
    for i, token in enumerate(ids):
        if token == eot_id:
            out.append((ids[start : i + 1], labels[start : i + 1]))
            start = i + 1
    return out


def test_labels_cover_the_assistant_turns_and_their_eot_and_mask_the_user(tokenizer):
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|eot|>")
    encoded = encode_conversation(DIALOGUE, tokenizer, eot_id=eot_id, max_length=2048)
    assert encoded.trained_tokens > 0
    assert encoded.input_ids[0] == tokenizer.bos_token_id and encoded.labels[0] == IGNORE_INDEX
    turns = spans(encoded, eot_id)
    assert len(turns) == 4  # an EOT after every utterance
    for index, (ids, labels) in enumerate(turns):
        if index % 2 == 0:  # user
            assert set(labels) == {IGNORE_INDEX}
        else:  # assistant, its EOT included in the trained span
            assert labels == ids and labels[-1] == eot_id
    assert tokenizer.decode(turns[1][0], skip_special_tokens=True) == "Grind fresh beans."


def test_the_loss_can_cover_user_turns_too(tokenizer):
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|eot|>")
    encoded = encode_conversation(
        DIALOGUE, tokenizer, eot_id=eot_id, max_length=2048, assistant_only=False
    )
    assert encoded.labels[1:] == encoded.input_ids[1:]


def test_a_long_row_is_trimmed_at_max_length(tokenizer):
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|eot|>")
    long_row = ["word " * 50, "answer " * 50]
    encoded = encode_conversation(long_row, tokenizer, eot_id=eot_id, max_length=64)
    assert len(encoded.input_ids) == len(encoded.labels) == 64
    assert encoded.trimmed and encoded.full_length > 64
    [stats_source, stats_all] = token_length_stats(
        [("wikihow", long_row)], tokenizer, eot_id=eot_id, max_length=64
    )
    assert stats_source.trimmed == 1 and stats_all.source == "all"


def test_the_chat_template_renders_the_same_ids_the_trainer_trains_on(tokenizer):
    eot_id, _ = tokenizer_add_eot(tokenizer, "<|lima_eot|>")
    tokenizer.chat_template = lima_chat_template("<|lima_eot|>")
    encoded = encode_conversation(DIALOGUE[:3], tokenizer, eot_id=eot_id, max_length=2048)
    rendered = tokenizer.apply_chat_template(
        [
            {"role": r, "content": c}
            for r, c in zip(["user", "assistant", "user"], DIALOGUE[:3], strict=True)
        ],
        tokenize=False,
        add_generation_prompt=True,
    )
    assert tokenizer.encode(rendered, add_special_tokens=False) == encoded.input_ids


def test_an_existing_eot_token_is_reused_without_resizing(tiny_model_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from training.engine.loop import load_for_training

    settings = RecipeSettings(eot_token="<|eot|>")
    model, _, eot_id, added = load_for_training(str(tiny_model_dir), settings)
    base = AutoModelForCausalLM.from_pretrained(tiny_model_dir)
    assert not added
    assert eot_id == AutoTokenizer.from_pretrained(tiny_model_dir).convert_tokens_to_ids("<|eot|>")
    assert model.get_input_embeddings().weight.shape == base.get_input_embeddings().weight.shape


def test_a_new_eot_token_is_added_and_the_embeddings_resized(tiny_model_dir):
    from transformers import AutoTokenizer

    from training.engine.loop import load_for_training

    base_tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    assert "<|lima_eot|>" not in base_tokenizer.get_vocab()
    model, tokenizer, eot_id, added = load_for_training(
        str(tiny_model_dir), RecipeSettings(eot_token="<|lima_eot|>")
    )
    assert added and eot_id == len(base_tokenizer)
    assert eot_id not in {tokenizer.pad_token_id, tokenizer.eos_token_id}
    assert model.get_input_embeddings().weight.shape[0] == len(base_tokenizer) + 1
    assert model.get_output_embeddings().weight.shape[0] == len(base_tokenizer) + 1
    # It is one special token, never split, and survives decoding as itself.
    assert tokenizer.encode("hi<|lima_eot|>", add_special_tokens=False)[-1] == eot_id


@pytest.mark.parametrize("which", ["pad_token", "eos_token"])
def test_the_pad_or_eos_token_is_refused_as_eot(tokenizer, which):
    with pytest.raises(ValueError, match="pad or EOS"):
        tokenizer_add_eot(tokenizer, getattr(tokenizer, which))
