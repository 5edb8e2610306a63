"""LIMA's residual dropout, added with forward hooks so the weights stay a plain HF model.

Layer i of L (bottom 0) drops its attention output and its MLP output, before each is added
to the residual stream, with p_i = p_top * i / (L - 1). In eval mode the hooks do nothing."""

from __future__ import annotations

from typing import Any

from torch import nn
from torch.nn import functional as F
from torch.utils.hooks import RemovableHandle

# The attribute each hooked sub-layer carries, so tests and logs can read p back.
P_ATTRIBUTE = "lima_residual_dropout_p"


def residual_dropout_probabilities(n_layers: int, p_top: float) -> list[float]:
    """p_i = p_top * i / (L - 1) for i = 0..L-1: 0 at the bottom layer, p_top at the top.
    A single layer is the top layer and gets p_top."""
    if n_layers < 1:
        raise ValueError("a model has at least one layer")
    if n_layers == 1:
        return [p_top]
    return [p_top * i / (n_layers - 1) for i in range(n_layers)]


def decoder_layers(model: nn.Module) -> list[nn.Module]:
    """The transformer blocks of a causal LM (Llama, Mistral, Qwen and friends)."""
    inner = model.get_decoder() if hasattr(model, "get_decoder") else model
    layers = getattr(inner, "layers", None)
    if layers is None:
        raise ValueError(f"cannot find the decoder layers of {type(model).__name__}")
    return list(layers)


def _sublayers(layer: nn.Module) -> list[nn.Module]:
    """The two sub-layers whose outputs are added to the residual stream."""
    attention = getattr(layer, "self_attn", None)
    mlp = getattr(layer, "mlp", None)
    if attention is None or mlp is None:
        raise ValueError(f"{type(layer).__name__} has no self_attn and mlp sub-layers")
    return [attention, mlp]


def _dropout_hook(p: float):
    def hook(module: nn.Module, args: Any, output: Any) -> Any:
        if not module.training or p == 0.0:
            return None  # leave the output as it is
        if isinstance(output, tuple):  # attention returns (output, weights)
            return (F.dropout(output[0], p=p, training=True), *output[1:])
        return F.dropout(output, p=p, training=True)

    return hook


def residual_dropout_attach(model: nn.Module, p_top: float) -> list[RemovableHandle]:
    """Hook dropout onto every layer's attention and MLP output. Returns the handles
    (call .remove() on each to take the dropout off again)."""
    layers = decoder_layers(model)
    handles: list[RemovableHandle] = []
    for layer, p in zip(layers, residual_dropout_probabilities(len(layers), p_top), strict=True):
        for sublayer in _sublayers(layer):
            setattr(sublayer, P_ATTRIBUTE, p)
            handles.append(sublayer.register_forward_hook(_dropout_hook(p)))
    return handles


def residual_dropout_of(model: nn.Module) -> list[tuple[float, float]]:
    """(attention p, MLP p) per layer, bottom first, as attached."""
    return [
        tuple(getattr(s, P_ATTRIBUTE, 0.0) for s in _sublayers(layer))  # type: ignore[misc]
        for layer in decoder_layers(model)
    ]
