"""Win/tie/loss shares, LIMA's "equivalent or preferred", clustered intervals, sign test."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import binomtest

from evalhub.stats.outcomes import sign_test_p_value, win_tie_loss, win_tie_loss_by_slice

# LIMA Figure 1 (human preference, 300 test prompts): LIMA win / tie / loss in percent
LIMA_FIGURE_1 = {
    "Alpaca 65B": (53, 21, 26),
    "DaVinci003": (44, 21, 35),
    "Bard": (33, 25, 42),
    "Claude": (24, 22, 54),
    "GPT-4": (18, 25, 57),
}

verdict_lists = st.lists(st.sampled_from([-1, 0, 1]), min_size=1, max_size=60)


def verdicts_for(percentages: tuple[int, int, int], n_prompts: int = 300) -> np.ndarray:
    wins, ties, losses = (p * n_prompts // 100 for p in percentages)
    verdicts = np.array([1] * wins + [0] * ties + [-1] * losses)
    return np.random.default_rng(0).permutation(verdicts)


@pytest.mark.parametrize("baseline", sorted(LIMA_FIGURE_1))
def test_it_reproduces_lima_figure_1_shares_exactly(baseline):
    win, tie, loss = LIMA_FIGURE_1[baseline]
    result = win_tie_loss(verdicts_for((win, tie, loss)), np.arange(300), rounds=200, seed=0)
    assert (result.win_share, result.tie_share, result.loss_share) == (
        win / 100,
        tie / 100,
        loss / 100,
    )
    assert result.equivalent_or_preferred == (win + tie) / 100
    assert result.n_judgments == result.n_prompts == 300


def test_it_counts_by_hand():
    result = win_tie_loss([1, 1, 0, -1, 1], [1, 1, 2, 3, 3], rounds=100, seed=0)
    assert (result.wins, result.ties, result.losses) == (3, 1, 1)
    assert result.win_share == 0.6 and result.equivalent_or_preferred == 0.8
    assert result.n_prompts == 3
    # 3 wins vs 1 loss: P = 2 * (1 + 4) / 16 = 0.625
    assert result.sign_test_p_value == pytest.approx(0.625)


def test_the_sign_test_is_scipys_exact_binomial_test():
    assert sign_test_p_value(3, 0) == pytest.approx(0.25)
    assert sign_test_p_value(159, 78) == pytest.approx(binomtest(159, 237, 0.5).pvalue)
    assert sign_test_p_value(0, 0) == 1.0


def test_one_prompt_gives_degenerate_intervals():
    result = win_tie_loss([1, 0, -1, 1], [7, 7, 7, 7], rounds=50, seed=1)
    assert (result.win_interval.low, result.win_interval.high) == (0.5, 0.5)
    assert result.equivalent_or_preferred_interval.low == 0.75


def test_intervals_resample_prompts_not_judgments():
    base = verdicts_for((53, 21, 26), 100)
    # three identical judgments per prompt: clustered by prompt, nothing changes
    tripled = np.repeat(base, 3)
    one = win_tie_loss(base, np.arange(100), rounds=500, seed=5)
    clustered = win_tie_loss(tripled, np.repeat(np.arange(100), 3), rounds=500, seed=5)
    naive = win_tie_loss(tripled, None, rounds=500, seed=5)
    assert clustered.win_interval == one.win_interval
    naive_width = naive.win_interval.high - naive.win_interval.low
    assert naive_width < 0.75 * (one.win_interval.high - one.win_interval.low)


def test_it_is_reproducible_with_a_seed():
    verdicts = verdicts_for((44, 21, 35))
    a = win_tie_loss(verdicts, rounds=300, seed=11)
    b = win_tie_loss(verdicts, rounds=300, seed=np.random.default_rng(11))
    assert a == b


def test_it_rejects_bad_input():
    with pytest.raises(ValueError):
        win_tie_loss([])
    with pytest.raises(ValueError):
        win_tie_loss([1, 2])
    with pytest.raises(ValueError):
        win_tie_loss([1, 0], level=1.5)


@settings(max_examples=40, deadline=None)
@given(verdict_lists, st.integers(0, 2**32 - 1))
def test_swapping_the_target_mirrors_wins_and_losses(verdicts, seed):
    ours = win_tie_loss(verdicts, rounds=200, seed=seed)
    theirs = win_tie_loss([-v for v in verdicts], rounds=200, seed=seed)
    assert (ours.wins, ours.ties, ours.losses) == (theirs.losses, theirs.ties, theirs.wins)
    assert ours.win_share == theirs.loss_share
    assert ours.win_interval == theirs.loss_interval
    assert ours.tie_interval == theirs.tie_interval
    assert ours.sign_test_p_value == pytest.approx(theirs.sign_test_p_value)


@settings(max_examples=40, deadline=None)
@given(verdict_lists, st.integers(0, 2**32 - 1))
def test_intervals_contain_the_point_estimates(verdicts, seed):
    result = win_tie_loss(verdicts, rounds=400, seed=seed)
    assert result.win_interval.contains(result.win_share)
    assert result.tie_interval.contains(result.tie_share)
    assert result.loss_interval.contains(result.loss_share)
    assert result.equivalent_or_preferred_interval.contains(result.equivalent_or_preferred)


def test_slices_match_single_calls_with_spawned_generators():
    rng = np.random.default_rng(2)
    verdicts = rng.choice([-1, 0, 1], size=600)
    prompts = np.tile(np.arange(300), 2)
    baselines = np.repeat(["Alpaca 65B", "Bard"], 300)
    groups = rng.choice(["crowd", "gpt-4"], size=600)
    results = win_tie_loss_by_slice(
        verdicts, prompts, baselines=baselines, groups=groups, rounds=100, seed=9
    )
    keys = [(b, g) for b in ("Alpaca 65B", "Bard") for g in ("crowd", "gpt-4")]
    assert list(results) == keys
    children = np.random.default_rng(9).spawn(4)
    for key, child in zip(keys, children, strict=True):
        rows = (baselines == key[0]) & (groups == key[1])
        assert results[key] == win_tie_loss(verdicts[rows], prompts[rows], rounds=100, seed=child)
