"""Style-controlled Bradley-Terry: ours against FastChat's own compute_style_control."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.special import expit

from evalhub.stats.style_control import (
    _loss,
    fit_style_bt,
    style_controlled_leaderboard,
    style_design,
    style_design_matrix,
)
from tests.evalhub.stats.fastchat_reference import fastchat_style_control

N_MODELS = 6
LENGTH_EFFECT = 1.5  # log-odds per unit of FastChat's length ratio (x_a - x_b)/(x_a + x_b + 1)


def planted(n: int = 4000, seed: int = 0) -> dict[str, np.ndarray]:
    """Battles whose winner depends on skill and on answer length, with 10% ties."""
    rng = np.random.default_rng(seed)
    skill = np.linspace(-0.4, 0.4, N_MODELS)
    verbosity = np.linspace(600.0, 200.0, N_MODELS)  # the weakest models write the most
    a = rng.integers(0, N_MODELS, n)
    b = (a + rng.integers(1, N_MODELS, n)) % N_MODELS
    means = np.array([0.0, 1.0, 4.0, 2.0])
    style_a = rng.poisson(means, (n, 4))
    style_b = rng.poisson(means, (n, 4))
    style_a[:, 0] = rng.poisson(verbosity[a])
    style_b[:, 0] = rng.poisson(verbosity[b])
    ratio = (style_a[:, 0] - style_b[:, 0]) / (style_a[:, 0] + style_b[:, 0] + 1.0)
    p = expit(math.log(10.0) * (skill[a] - skill[b]) + LENGTH_EFFECT * ratio)
    outcome = np.where(rng.random(n) < p, 1, -1)
    outcome[rng.random(n) < 0.1] = 0
    names = np.array([f"model-{i}" for i in range(N_MODELS)])
    return {"a": a, "b": b, "outcome": outcome, "names": names,
            "style_a": style_a, "style_b": style_b}  # fmt: skip


def ours(data: dict[str, np.ndarray], rounds: int = 0, seed: int = 0):
    return style_controlled_leaderboard(
        data["a"], data["b"], data["outcome"], data["style_a"], data["style_b"],
        list(data["names"]), rounds=rounds, seed=seed,
    )  # fmt: skip


def test_it_equals_fastchats_compute_style_control(tmp_path: Path) -> None:
    data = planted()
    board = ours(data, rounds=40)
    theirs = fastchat_style_control(tmp_path, data, rounds=40)
    for model, rating in zip(board.models, board.ratings, strict=True):
        assert abs(rating - theirs["ratings"][model]) < 0.5, (model, rating)
    np.testing.assert_allclose(board.coefficients, theirs["coefficients"], atol=1e-3)
    # intervals come from different random resamples: same width to within a third
    ours_width = np.median(board.upper - board.lower)
    their_width = np.median([theirs["upper"][m] - theirs["lower"][m] for m in board.models])
    assert abs(ours_width - their_width) < their_width / 3


def test_it_is_the_penalised_optimum() -> None:
    data = planted(n=1500, seed=2)
    feats, _, _ = style_design(data["style_a"], data["style_b"])
    y = (data["outcome"] + 1.0) / 2.0
    theta, converged = fit_style_bt(style_design_matrix(data["a"], data["b"], feats, y, N_MODELS))
    assert converged
    # gradient of FastChat's loss (log loss + 0.25 |theta|^2) vanishes at the optimum
    alpha = math.log(10.0)
    p = expit(alpha * (theta[data["a"]] - theta[data["b"]]) + feats @ theta[N_MODELS:])
    grad = 0.5 * theta
    np.add.at(grad[:N_MODELS], data["a"], -alpha * (y - p))
    np.add.at(grad[:N_MODELS], data["b"], alpha * (y - p))
    grad[N_MODELS:] -= feats.T @ (y - p)
    assert np.abs(grad).max() < 1e-8


def test_its_loss_is_the_log_loss_at_any_logit() -> None:
    eta = np.array([-800.0, -30.0, -1.0, 0.0, 1e-9, 2.5, 40.0, 800.0])
    y = np.array([0.0, 1.0, 0.5, 1.0, 0.0, 0.5, 1.0, 0.0])
    weights = np.arange(1.0, 9.0)
    per_battle = np.logaddexp(0.0, eta) - y * eta  # numpy's softplus, for reference
    kept = eta.copy()
    assert _loss(eta, y, weights) == pytest.approx(weights @ per_battle, rel=1e-14)
    assert _loss(eta, y, None) == pytest.approx(per_battle.sum(), rel=1e-14)
    np.testing.assert_array_equal(eta, kept)  # the fit reuses the logits afterwards


def test_it_takes_the_length_advantage_away_from_verbose_models() -> None:
    board = ours(planted(n=20_000, seed=3))
    plain_like = ours({**planted(n=20_000, seed=3), "style_a": np.zeros((20_000, 4)),
                       "style_b": np.zeros((20_000, 4))})  # fmt: skip
    # model-0 writes the longest answers: style control lowers it, and finds length pays
    assert board.ratings[0] < plain_like.ratings[0]
    assert board.coefficients[0] > 0
    assert board.coefficient_points[0] == pytest.approx(board.coefficients[0] * 400 / math.log(10))
    assert np.all(board.feature_std > 0)


def test_it_gives_bootstrap_intervals_around_the_point_fit() -> None:
    board = ours(planted(n=3000, seed=4), rounds=30, seed=1)
    assert board.converged
    assert board.bootstrap_ratings.shape == (30, N_MODELS)
    assert np.all(board.lower <= board.ratings) and np.all(board.ratings <= board.upper)
    assert np.all(board.coefficient_lower <= board.coefficient_upper)
    assert board.rank.min() == 1


def test_it_refuses_bad_battles() -> None:
    data = planted(n=100)
    with pytest.raises(ValueError, match="battle itself"):
        ours({**data, "b": data["a"]})
    with pytest.raises(ValueError, match="non-negative"):
        ours({**data, "style_a": -data["style_a"]})
    with pytest.raises(ValueError, match="outcome"):
        ours({**data, "outcome": data["outcome"] * 2})
