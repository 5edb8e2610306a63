"""LIMA's learning rate: linear from lr_start at the first optimizer step to lr_end at the
last, with no warm-up. Interpolated as start*(1-t) + end*t so both ends are exact."""

from __future__ import annotations


def learning_rate_at(step: int, *, total_steps: int, lr_start: float, lr_end: float) -> float:
    """The learning rate of optimizer step `step` (0-based) of `total_steps`."""
    if not 0 <= step < total_steps:
        raise ValueError(f"step {step} is outside 0..{total_steps - 1}")
    if total_steps == 1:
        return lr_start
    t = step / (total_steps - 1)
    return lr_start * (1.0 - t) + lr_end * t
