"""Which pair of models a live battle study should battle next, to narrow the Bradley-Terry
leaderboard's intervals fastest, and a simulation with a known truth that checks a rule
against uniform pairing at the same budget.

Target. The leaderboard shows each model's rating with a 95% bootstrap interval (ratings
centred on their mean). What a battle study buys is narrower intervals, so the target is the
mean interval width over the models after the budget. Under Bradley-Terry the ratings'
covariance is about the pseudo-inverse of the Fisher information
    I = sum over pairs (i, j) of n_ij * p_ij * (1 - p_ij) * (e_i - e_j)(e_i - e_j)^T
(natural logit units; a tie counts as half a win, as in the fit), so a battle between i and
j adds a rank-one term whose weight p_ij(1 - p_ij) is largest for close models. The rule
`information_pair` picks the pair whose next battle most reduces the sum over models of
sqrt(Var(rating)) (the mean width, up to a constant), with p_ij from the current fit, and
an exploration floor: a pair below `floor_share` of its uniform share of the battles so far
is battled first, so a bad early estimate cannot starve a pair.

Measured (bench/adaptive_pairing.py --sim-only; 200 battles over 6 models, 10% ties, 100
bootstrap rounds, 150 seeds a truth, 50 for "widest"; rule / uniform on the same votes;
lose = share of seeds where the rule is worse; "neighbours" is the same rule aimed at the
differences of models adjacent in the current order; "widest" is the first adaptive rule,
the widest intervals first):

       truth        rule | mean width ratio  lose | neighbour ratio  lose | Kendall rule  uniform
      spread information |    1.001 ± 0.056  0.53 |   0.985 ± 0.072  0.43 |        0.871    0.877
      spread  neighbours |    1.032 ± 0.068  0.68 |   0.947 ± 0.069  0.25 |        0.907    0.877
      spread      widest |    1.186 ± 0.897  0.74 |   1.093 ± 0.243  0.72 |        0.815    0.883
       close information |    1.009 ± 0.053  0.57 |   1.002 ± 0.061  0.47 |        0.474    0.473
       close  neighbours |    1.036 ± 0.059  0.73 |   1.015 ± 0.074  0.57 |        0.504    0.473
       close      widest |    1.051 ± 0.073  0.78 |   1.052 ± 0.083  0.68 |        0.527    0.483
    dominant information |    1.003 ± 0.089  0.51 |   1.009 ± 0.087  0.52 |        0.333    0.333
    dominant  neighbours |    1.086 ± 0.450  0.69 |   1.051 ± 0.230  0.65 |        0.333    0.333
    dominant      widest |    1.876 ± 3.301  0.72 |   1.849 ± 3.099  0.82 |        0.333    0.333
        wide information |    0.994 ± 0.082  0.48 |   0.960 ± 0.068  0.27 |        0.982    0.980
        wide  neighbours |    1.037 ± 0.092  0.64 |   0.897 ± 0.072  0.07 |        0.993    0.980
        wide      widest |    2.114 ± 4.069  0.74 |   1.602 ± 2.037  0.76 |        0.955    0.987

(truths: `TRUTHS`, strengths 0.35 * i, 0.10 * i, one model 2.5 above five equal ones, and
0.80 * i.) Neither rule narrows the leaderboard's intervals over uniform pairing: the
information rule ties it and loses in about half the seeds, the neighbours rule is worse.
The reason is the design, not the estimate: with the true strengths known the best greedy
allocation narrows the summed sd by only 0.6% (spread), 0.0% (close), 0.1% (dominant) and
6.3% (wide) over uniform (known_truth_ceiling), because with 6 models a balanced complete
design is already near optimal. So uniform is EvalHub's default and adaptive pairing is
off by default; the live study's adaptive option runs information_pair, which at least
does no harm, in place of the first rule, which widened the intervals.

Pure functions: counts and ratings in, a pair or a number out.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from evalhub.stats.bradley_terry import bradley_terry_leaderboard
from evalhub.stats.bradley_terry_fit import fit_half_win, pair_totals

ELO_PER_LOGIT = 400.0 / math.log(10.0)  # the leaderboard's points per natural logit
FLOOR_SHARE = 0.5  # every pair keeps at least half its uniform share of the battles
PRIOR_BATTLES = 1.0  # a ridge of one battle's information per pair: no singular start
RIDGE = 0.5  # natural-unit L2 on the plug-in fit, so a model that lost its few battles
# does not sit at minus infinity (and every pair with it at p(1-p) = 0)


def rating_covariance(counts: NDArray[np.float64], ratings: ArrayLike) -> NDArray[np.float64]:
    """Approximate covariance (natural units, ratings centred on their mean) of the BT
    ratings after `counts[i, j]` battles between i and j (symmetric, any diagonal), with
    win probabilities from `ratings` (natural units). PRIOR_BATTLES per pair is added so the
    information is invertible before every model has battled."""
    r = np.asarray(ratings, dtype=np.float64)
    m = r.size
    p = 1.0 / (1.0 + np.exp(r[None, :] - r[:, None]))
    weights = (np.asarray(counts, dtype=np.float64) + PRIOR_BATTLES) * p * (1.0 - p)
    np.fill_diagonal(weights, 0.0)
    info = np.diag(weights.sum(axis=1)) - weights
    centre = np.full((m, m), 1.0 / m)
    # The pseudo-inverse on the sum-to-zero subspace, the leaderboard's gauge.
    return np.linalg.inv(info + centre) - centre


def neighbour_contrasts(ratings: ArrayLike) -> NDArray[np.float64]:
    """Rows e_a - e_b for each pair of models adjacent in the order of `ratings` (ties
    broken by index): the differences a researcher reads to tell neighbours apart."""
    order = np.argsort(np.asarray(ratings, dtype=np.float64), kind="stable")
    rows = np.zeros((order.size - 1, order.size))
    rows[np.arange(order.size - 1), order[:-1]] = -1.0
    rows[np.arange(order.size - 1), order[1:]] = 1.0
    return rows


def width_reduction(
    covariance: NDArray[np.float64],
    ratings: ArrayLike,
    pairs: Sequence[tuple[int, int]],
    contrasts: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """For each pair (i, j) (model indices), how much one more battle between them lowers
    the summed sd of the `contrasts` (rows c: sd of c . rating; default each model's own
    rating): a rank-one (Sherman-Morrison) update of `covariance`."""
    r = np.asarray(ratings, dtype=np.float64)
    c = np.eye(r.size) if contrasts is None else np.asarray(contrasts, dtype=np.float64)
    before = np.einsum("ki,ij,kj->k", c, covariance, c)
    sd = np.sqrt(np.clip(before, 0.0, None)).sum()
    out = np.empty(len(pairs))
    for n, (i, j) in enumerate(pairs):
        p = 1.0 / (1.0 + math.exp(r[j] - r[i]))
        w = p * (1.0 - p)
        column = covariance[:, i] - covariance[:, j]  # Sigma d
        spread = column[i] - column[j]  # d^T Sigma d
        after = before - w * (c @ column) ** 2 / (1.0 + w * spread)
        out[n] = float(sd - np.sqrt(np.clip(after, 0.0, None)).sum())
    return out


TARGETS = ("models", "neighbours")


def information_pair(
    pairs: Sequence[tuple[int, int]],
    counts: Sequence[int],
    ratings: ArrayLike,
    *,
    target: str = "models",
    floor_share: float = FLOOR_SHARE,
) -> list[int]:
    """Indexes into `pairs` (model indices into `ratings`, natural units) of the best pairs
    to battle next, ties kept (the caller draws among them): any pair below `floor_share`
    of its uniform share of the battles so far, the fewest-battled of those first; else the
    pairs whose battle most reduces the summed sd of the target: "models" (each model's
    rating, the leaderboard's intervals) or "neighbours" (the rating differences of models
    adjacent in the current order)."""
    if target not in TARGETS:
        raise ValueError(f"target must be one of {TARGETS}")
    n = np.asarray(counts, dtype=np.float64)
    floor = floor_share * (n.sum() + 1.0) / len(pairs)
    below = np.flatnonzero(n < floor)
    if below.size:
        fewest = n[below].min()
        return [int(k) for k in below if n[k] == fewest]
    r = np.asarray(ratings, dtype=np.float64)
    matrix = np.zeros((r.size, r.size))
    for (i, j), c in zip(pairs, n, strict=True):
        matrix[i, j] += c
        matrix[j, i] += c
    contrasts = neighbour_contrasts(r) if target == "neighbours" else None
    gain = width_reduction(rating_covariance(matrix, r), r, pairs, contrasts)
    best = gain.max()
    return [int(k) for k in np.flatnonzero(gain >= best - 1e-12 * max(abs(best), 1.0))]


def known_truth_ceiling(truth: ArrayLike, battles: int, target: str = "models") -> float:
    """The best that any pairing could do, by the Gaussian approximation: the summed sd of
    the target (see information_pair) after `battles` battles allocated greedily with the
    true strengths known and no floor, divided by the same for the uniform allocation.
    Near 1 means uniform is already about as good as pairing can be."""
    r = np.asarray(truth, dtype=np.float64)
    pairs = list(combinations(range(r.size), 2))
    contrasts = neighbour_contrasts(r) if target == "neighbours" else np.eye(r.size)

    def summed_sd(per_pair: NDArray[np.float64]) -> float:
        matrix = np.zeros((r.size, r.size))
        for (i, j), c in zip(pairs, per_pair, strict=True):
            matrix[i, j] = matrix[j, i] = c
        cov = rating_covariance(matrix, r)
        return float(np.sqrt(np.einsum("ki,ij,kj->k", contrasts, cov, contrasts)).sum())

    counts = np.zeros(len(pairs))
    for _ in range(battles):
        counts[information_pair(pairs, counts, r, target=target, floor_share=0.0)[0]] += 1
    return summed_sd(counts) / summed_sd(np.full(len(pairs), battles / len(pairs)))


def plug_in_ratings(
    model_a: ArrayLike, model_b: ArrayLike, outcome: ArrayLike, n_models: int
) -> NDArray[np.float64]:
    """Ridge-regularised BT ratings (natural units, mean 0) of the battles so far, for the
    plug-in p_ij of information_pair; all zeros before any battle."""
    a = np.asarray(model_a, dtype=np.int64)
    if a.size == 0:
        return np.zeros(n_models)
    b, o = np.asarray(model_b, dtype=np.int64), np.asarray(outcome, dtype=np.int64)
    cells = np.bincount((a * n_models + b) * 3 + o + 1, minlength=n_models * n_models * 3)
    fit = fit_half_win(pair_totals(cells[None, :].astype(np.float64), n_models), l2=RIDGE)
    return fit.ratings[0]


# --- Simulation with a known truth -------------------------------------------------------

RULES = ("uniform", "widest", "information", "neighbours")
TIE_SHARE = 0.10  # a simulated rater's share of ties, whatever the pair
REFIT_VOTES = 10  # the live study refits its cached board every 10 votes


@dataclass(frozen=True)
class PairingRun:
    """One simulated study: battles per pair (index-aligned with combinations(range(M),
    2)), the leaderboard's per-model interval widths (Elo points), the bootstrap interval
    widths of the rating differences of truly adjacent models (Elo points), and the
    ranking's Kendall tau with the truth."""

    counts: NDArray[np.int64]
    widths: NDArray[np.float64]
    neighbour_widths: NDArray[np.float64]
    kendall: float

    @property
    def mean_width(self) -> float:
        return float(self.widths.mean())


def _kendall(truth: NDArray[np.float64], ratings: NDArray[np.float64]) -> float:
    i, j = np.triu_indices(truth.size, 1)
    agree = np.sign(truth[i] - truth[j]) * np.sign(ratings[i] - ratings[j])
    return float(agree.mean())


def simulate_pairing(
    truth: ArrayLike, battles: int, rule: str, seed: int, *, rounds: int = 100
) -> PairingRun:
    """A battle study of `battles` votes over len(truth) models (truth: natural-unit BT
    strengths) whose pairs `rule` chooses: "uniform" (the fewest-battled pair, as
    evalhub.live.pairing does without adaptive), "widest" (the pair whose two models'
    bootstrap intervals sum widest, a model under 10 battles counting as infinitely wide:
    the rule EvalHub shipped first) or "information" (information_pair). Rules that look at
    the data refit every REFIT_VOTES votes, as the live study's cache does. The votes come
    from one stream of uniforms per seed, so two rules meeting the same pair in the same
    battle see the same vote. The final board is the leaderboard's (half-win, `rounds`
    bootstrap rounds, seed 0)."""
    if rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}")
    s = np.asarray(truth, dtype=np.float64)
    m = s.size
    pairs = list(combinations(range(m), 2))
    votes = np.random.default_rng(seed)
    draws = np.random.default_rng([seed, RULES.index(rule)])
    counts = np.zeros(len(pairs), dtype=np.int64)
    a = np.empty(battles, dtype=np.int64)
    b = np.empty(battles, dtype=np.int64)
    o = np.empty(battles, dtype=np.int64)
    state: NDArray[np.float64] = np.zeros(m)  # ratings (information) or widths (widest)
    for t in range(battles):
        if rule != "uniform" and t % REFIT_VOTES == 0 and t:
            if rule in ("information", "neighbours"):
                state = plug_in_ratings(a[:t], b[:t], o[:t], m)
            else:
                state = _widths_so_far(a[:t], b[:t], o[:t], m)
        if rule in ("information", "neighbours"):
            target = "models" if rule == "information" else "neighbours"
            options = information_pair(pairs, counts, state, target=target)
        elif rule == "widest" and t >= REFIT_VOTES:
            sums = np.array([state[i] + state[j] for i, j in pairs])
            top = sums.max()
            widest = np.flatnonzero((sums == top) if np.isfinite(top) else np.isinf(sums))
            options = [int(k) for k in widest if counts[k] == counts[widest].min()]
        else:
            options = [int(k) for k in np.flatnonzero(counts == counts.min())]
        k = options[int(draws.integers(len(options)))] if len(options) > 1 else options[0]
        i, j = pairs[k]
        counts[k] += 1
        tie, win = votes.random(2)
        a[t], b[t] = i, j
        p = 1.0 / (1.0 + math.exp(s[j] - s[i]))
        o[t] = 0 if tie < TIE_SHARE else (1 if win < p else -1)
    board = bradley_terry_leaderboard(a, b, o, [f"m{i}" for i in range(m)], rounds=rounds, seed=0)
    differences = board.bootstrap_ratings @ neighbour_contrasts(s).T
    low, high = np.percentile(differences, [2.5, 97.5], axis=0)
    return PairingRun(counts, board.upper - board.lower, high - low, _kendall(s, board.ratings))


def _widths_so_far(a: NDArray, b: NDArray, o: NDArray, m: int) -> NDArray[np.float64]:
    """The first rule's state: each model's bootstrap interval width so far, inf under 10
    battles (or for a model without any)."""
    n = np.bincount(a, minlength=m) + np.bincount(b, minlength=m)
    widths = np.full(m, np.inf)
    seen = np.flatnonzero(n)
    if seen.size < 2:
        return widths
    code = np.full(m, -1)
    code[seen] = np.arange(seen.size)
    board = bradley_terry_leaderboard(code[a], code[b], o, [str(i) for i in seen], seed=0)
    widths[seen] = np.where(n[seen] >= 10, board.upper - board.lower, np.inf)
    return widths


TRUTHS = {  # natural-unit BT strengths of 6 models (0.35 is about 61 Elo points)
    "spread": tuple(0.35 * i for i in range(6)),  # the live bench's truth
    "close": tuple(0.10 * i for i in range(6)),
    "dominant": (2.5, 0.0, 0.0, 0.0, 0.0, 0.0),
    "wide": tuple(0.80 * i for i in range(6)),
}


def seed_rows(
    truth: ArrayLike, battles: int, rules: Sequence[str], seed: int, *, rounds: int = 100
) -> list[dict[str, float | int | str]]:
    """Each rule against uniform on one seed (the same vote stream): per rule its and
    uniform's mean interval width and mean neighbour-difference width (Elo points) and
    Kendall tau with the truth."""
    base = simulate_pairing(truth, battles, "uniform", seed, rounds=rounds)
    rows = []
    for rule in rules:
        mine = simulate_pairing(truth, battles, rule, seed, rounds=rounds)
        rows.append({
            "rule": rule, "seed": seed,
            "width": mine.mean_width, "width_uniform": base.mean_width,
            "neighbours": float(mine.neighbour_widths.mean()),
            "neighbours_uniform": float(base.neighbour_widths.mean()),
            "kendall": mine.kendall, "kendall_uniform": base.kendall,
        })  # fmt: skip
    return rows


@dataclass(frozen=True)
class RuleComparison:
    """A rule against uniform over seeds: per seed the rule's / uniform's mean interval
    width and mean neighbour-difference width (ratio < 1: the rule is better), and the
    Kendall taus with the truth."""

    ratios: NDArray[np.float64]
    neighbour_ratios: NDArray[np.float64]
    kendall_rule: NDArray[np.float64]
    kendall_uniform: NDArray[np.float64]

    @classmethod
    def from_rows(cls, rows: Sequence[Mapping[str, float | int | str]]) -> RuleComparison:
        """From seed_rows' rows of one rule and truth."""

        def column(key: str) -> NDArray[np.float64]:
            return np.array([float(r[key]) for r in rows])

        return cls(
            column("width") / column("width_uniform"),
            column("neighbours") / column("neighbours_uniform"),
            column("kendall"),
            column("kendall_uniform"),
        )

    @property
    def loses(self) -> float:
        """Share of seeds where the rule's mean interval width is above uniform's."""
        return float((self.ratios > 1.0).mean())

    @property
    def neighbours_lose(self) -> float:
        """Share of seeds where the rule's neighbour-difference width is above uniform's."""
        return float((self.neighbour_ratios > 1.0).mean())

    @property
    def ranks_lose(self) -> float:
        """Share of seeds where the rule's ranking is further from the truth (lower tau)."""
        return float((self.kendall_rule < self.kendall_uniform).mean())


def compare_rule(
    truth: ArrayLike, battles: int, rule: str, seeds: Sequence[int], *, rounds: int = 100
) -> RuleComparison:
    """seed_rows for one rule over `seeds`, gathered."""
    rows = [row for seed in seeds for row in seed_rows(truth, battles, [rule], seed, rounds=rounds)]
    return RuleComparison.from_rows(rows)
