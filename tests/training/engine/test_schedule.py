"""The learning rate: 1e-5 at the first optimizer step, 1e-6 at the last, linear between."""

import itertools

import pytest

from training.engine.schedule import learning_rate_at


def test_the_ends_are_exact_and_the_middle_is_linear():
    lrs = [learning_rate_at(k, total_steps=480, lr_start=1e-5, lr_end=1e-6) for k in range(480)]
    assert lrs[0] == 1e-5 and lrs[-1] == 1e-6
    steps = [b - a for a, b in itertools.pairwise(lrs)]
    assert steps == pytest.approx([(1e-6 - 1e-5) / 479] * 479, rel=1e-9)


def test_a_single_step_run_uses_the_start_rate_and_steps_outside_are_refused():
    assert learning_rate_at(0, total_steps=1, lr_start=1e-5, lr_end=1e-6) == 1e-5
    with pytest.raises(ValueError):
        learning_rate_at(3, total_steps=3, lr_start=1e-5, lr_end=1e-6)
