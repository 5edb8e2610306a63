"""Residual dropout by hooks: p_i = p_top * i / (L - 1), off in eval mode, plain weights.

torch, transformers and training.engine.dropout (which imports torch) are imported inside the
tests: every xdist worker collects this module, and most run none of its tests."""

import pytest

from generation.tiny_model import build_tiny_model


@pytest.fixture(scope="module")
def four_layer_dir(tmp_path_factory):
    return build_tiny_model(tmp_path_factory.mktemp("tiny4"), n_layers=4)


def test_probabilities_rise_linearly_from_zero_to_the_top_value():
    from training.engine.dropout import residual_dropout_probabilities

    assert residual_dropout_probabilities(4, 0.3) == [0.3 * i / 3 for i in range(4)]
    assert residual_dropout_probabilities(4, 0.3) == pytest.approx([0.0, 0.1, 0.2, 0.3], abs=1e-15)
    assert residual_dropout_probabilities(4, 0.3)[-1] == 0.3
    assert residual_dropout_probabilities(2, 0.2) == [0.0, 0.2]
    assert residual_dropout_probabilities(1, 0.3) == [0.3]


def test_each_layer_drops_its_attention_and_mlp_output_with_its_exact_p(four_layer_dir):
    from transformers import AutoModelForCausalLM

    from training.engine.dropout import residual_dropout_attach, residual_dropout_of

    model = AutoModelForCausalLM.from_pretrained(four_layer_dir)
    handles = residual_dropout_attach(model, 0.3)
    assert len(handles) == 8  # attention and MLP of each of 4 layers
    expected = [0.3 * i / 3 for i in range(4)]
    assert residual_dropout_of(model) == [(p, p) for p in expected]


def test_the_hook_drops_the_sublayer_output_at_rate_p(four_layer_dir):
    """Feed a top-layer MLP a large input: the share of zeroed outputs is p, the rest are
    scaled by 1/(1-p) (inverted dropout), which a statistical bound can check."""
    import torch
    from transformers import AutoModelForCausalLM

    from training.engine.dropout import P_ATTRIBUTE, residual_dropout_attach

    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_pretrained(four_layer_dir)
    residual_dropout_attach(model, 0.3)
    mlp = model.model.layers[3].mlp
    p = getattr(mlp, P_ATTRIBUTE)
    x = torch.randn(1, 4000, 128)
    mlp.eval()
    clean = mlp(x)
    mlp.train()
    dropped = mlp(x)
    zero_share = (dropped == 0).float().mean().item()
    assert abs(zero_share - p) < 0.01  # 512k draws: the standard error is ~0.0006
    kept = dropped != 0
    torch.testing.assert_close(dropped[kept], clean[kept] / (1 - p))
    # The bottom layer's p is 0: nothing is dropped even in train mode.
    bottom = model.model.layers[0].mlp
    assert getattr(bottom, P_ATTRIBUTE) == 0.0
    bottom_eval = bottom.eval()(x)
    torch.testing.assert_close(bottom.train()(x), bottom_eval, rtol=0, atol=0)


def test_outputs_in_eval_mode_are_unchanged_and_weights_stay_plain(four_layer_dir, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from training.engine.dropout import residual_dropout_attach

    plain = AutoModelForCausalLM.from_pretrained(four_layer_dir).eval()
    hooked = AutoModelForCausalLM.from_pretrained(four_layer_dir)
    residual_dropout_attach(hooked, 0.3)
    hooked.eval()
    ids = torch.tensor([[1, 50, 60, 70, 80, 90]])
    with torch.no_grad():
        torch.testing.assert_close(hooked(ids).logits, plain(ids).logits, rtol=0, atol=0)
        hooked.train()
        assert not torch.equal(hooked(ids).logits, plain(ids).logits)
    hooked.save_pretrained(tmp_path)
    assert set(hooked.state_dict()) == set(plain.state_dict())  # hooks add no weights
