"""Batched maximum-likelihood fits of Bradley-Terry (ties = half a win) and Davidson models.

Works on many data sets at once (bootstrap rounds): ratings are a (rounds, models) array in
natural-log units, r_i - r_j = logit P(i beats j) (for Davidson: given the game is decided).
Each iteration is one damped Newton step for every round: the log-likelihood is concave, the
Hessian is a (rounds, M, M) weighted graph Laplacian, and np.linalg.solve does all rounds at
once. Ratings are identified only up to a common shift; we keep their mean at 0 by adding
1 1^T to the Laplacian (the gradient sums to 0, so the step does too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

OUTCOME_B_WINS, OUTCOME_TIE, OUTCOME_A_WINS = 0, 1, 2  # index of outcome -1 / 0 / 1 in a cell
NO_TIES_LOG_NU = -50.0  # log(nu) when a data set has no ties: P(tie) ~ 1e-22, i.e. plain BT


@dataclass(frozen=True, slots=True)
class PairTotals:
    """Per data set: wins[b, i, j] = games i won against j; ties[b, i, j] symmetric."""

    wins: NDArray[np.float64]
    ties: NDArray[np.float64]

    @property
    def games(self) -> NDArray[np.float64]:
        """games[b, i, j] = all games between i and j (symmetric)."""
        return self.wins + self.wins.transpose(0, 2, 1) + self.ties


@dataclass(frozen=True, slots=True)
class RatingFit:
    """Fitted natural-unit ratings (rounds, M), mean 0 per round.

    log_nu is Davidson's log tie parameter per round (None for the half-win model).
    converged[b] is False when round b hit max_iter, e.g. when a model won or lost all of
    its games and its maximum-likelihood rating is infinite.
    """

    ratings: NDArray[np.float64]
    log_nu: NDArray[np.float64] | None
    converged: NDArray[np.bool_]
    iterations: int


def pair_totals(cell_counts: NDArray[np.float64], n_models: int) -> PairTotals:
    """Fold (rounds, M*M*3) cell counts, cell = (a*M + b)*3 + outcome index, into PairTotals."""
    cells = cell_counts.reshape(-1, n_models, n_models, 3)
    wins = cells[..., OUTCOME_A_WINS] + cells[..., OUTCOME_B_WINS].transpose(0, 2, 1)
    ties = cells[..., OUTCOME_TIE] + cells[..., OUTCOME_TIE].transpose(0, 2, 1)
    return PairTotals(wins=wins, ties=ties)


def _gauge_solve(neg_hessian: NDArray[np.float64], grad: NDArray[np.float64], m: int) -> NDArray:
    """Solve (H + c 1 1^T on the ratings block + tiny ridge) step = grad for every round.

    c (the mean diagonal) keeps conditioning sane; the tiny ridge only matters for a model
    without games in a resample, whose step is then 0.
    """
    diag = np.einsum("bii->bi", neg_hessian[:, :m, :m])
    scale = diag.mean(axis=1) + 1.0
    system = neg_hessian.copy()
    system[:, :m, :m] += scale[:, None, None]
    idx = np.arange(system.shape[1])
    system[:, idx, idx] += 1e-12 * scale[:, None]
    return np.linalg.solve(system, grad[..., None])[..., 0]


def _half_win_objective(r: NDArray, score: NDArray, l2: float) -> NDArray:
    """Log-likelihood per round: sum_ij score_ij log sigmoid(r_i - r_j) - l2/2 |r|^2."""
    diff = r[:, :, None] - r[:, None, :]
    return -(score * np.logaddexp(0.0, -diff)).sum(axis=(1, 2)) - 0.5 * l2 * (r * r).sum(1)


def fit_half_win(
    totals: PairTotals,
    *,
    init: NDArray[np.float64] | None = None,
    l2: float = 0.0,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> RatingFit:
    """Bradley-Terry MLE with a tie counted as half a win for each side, for every round.

    tol: stop when no rating moves by more than tol (natural units) in a step.
    """
    score = totals.wins + 0.5 * totals.ties
    games = score + score.transpose(0, 2, 1)
    rounds, m = score.shape[0], score.shape[1]
    r = np.zeros((rounds, m)) if init is None else np.array(init, dtype=np.float64)
    r = np.broadcast_to(r - r.mean(axis=-1, keepdims=True), (rounds, m)).copy()
    active = np.ones(rounds, dtype=bool)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        p = expit(r[:, :, None] - r[:, None, :])
        grad = (score - games * p).sum(axis=2) - l2 * r
        neg_hessian = _laplacian(games * p * (1.0 - p), l2)
        step = _gauge_solve(neg_hessian, grad, m)
        step[~active] = 0.0
        r = _damped_update(r, step, lambda x: _half_win_objective(x, score, l2))
        active &= np.abs(step).max(axis=1) > tol
        if not active.any():
            break
    r -= r.mean(axis=1, keepdims=True)
    return RatingFit(ratings=r, log_nu=None, converged=~active, iterations=iterations)


def _laplacian(weights: NDArray, l2: float) -> NDArray:
    """Weighted graph Laplacian diag(rowsum w) - w, plus l2 on the diagonal, per round."""
    lap = -weights
    idx = np.arange(weights.shape[1])
    lap[:, idx, idx] += weights.sum(axis=2) + l2
    return lap


def _damped_update(r: NDArray, step: NDArray, objective: Callable[[NDArray], NDArray]) -> NDArray:
    """r + t * step with t halved per round until the objective does not drop (concave)."""
    base = objective(r)
    t = np.ones(r.shape[0])
    worse = np.zeros(r.shape[0], dtype=bool)
    for _ in range(40):
        cand = r + t[:, None] * step
        value = objective(cand)
        worse = value < base - 1e-10 * (1.0 + np.abs(base))
        if not worse.any():
            return cand
        t = np.where(worse, t / 2.0, t)
    return np.where(worse[:, None], r, cand)


def _davidson_parts(
    params: NDArray, wins: NDArray, ties: NDArray, games: NDArray
) -> tuple[NDArray, NDArray, NDArray, NDArray, NDArray]:
    """Log-likelihood and the probabilities it needs, for params = [ratings..., log nu]."""
    r, log_nu = params[:, :-1], params[:, -1][:, None, None]
    u = 0.5 * (r[:, :, None] - r[:, None, :])
    log_z = np.logaddexp(np.logaddexp(u, -u), log_nu)
    pw, pl, pt = np.exp(u - log_z), np.exp(-u - log_z), np.exp(log_nu - log_z)
    loglik = ((wins - wins.transpose(0, 2, 1)) * u).sum(axis=(1, 2)) * 0.5
    loglik = loglik + 0.5 * (ties.sum(axis=(1, 2)) * log_nu[:, 0, 0])
    loglik = loglik - 0.5 * (games * log_z).sum(axis=(1, 2))
    return loglik, pw, pl, pt, u


def fit_davidson(
    totals: PairTotals,
    *,
    init: NDArray[np.float64] | None = None,
    l2: float = 0.0,
    tol: float = 1e-9,
    max_iter: int = 100,
) -> RatingFit:
    """Davidson (1970) MLE: P(i wins) : P(j wins) : P(tie) = p_i : p_j : nu sqrt(p_i p_j).

    Fits ratings and log nu jointly for every round. Rounds without ties fix log nu at
    NO_TIES_LOG_NU (its MLE is minus infinity), which reduces the model to plain BT.
    """
    wins, ties, games = totals.wins, totals.ties, totals.games
    rounds, m = wins.shape[0], wins.shape[1]
    tie_share = ties.sum(axis=(1, 2)) / np.maximum(games.sum(axis=(1, 2)), 1.0)
    has_ties = tie_share > 0
    # start nu where P(tie) between equal models equals the observed tie share
    log_nu0 = np.full(rounds, NO_TIES_LOG_NU)
    share = tie_share[has_ties]
    log_nu0[has_ties] = np.log(2.0 * share / np.maximum(1.0 - share, 1e-12))
    params = np.zeros((rounds, m + 1))
    if init is not None:
        params[:, :m] = init - np.mean(init, axis=-1, keepdims=True)
    params[:, m] = log_nu0
    active = np.ones(rounds, dtype=bool)

    def objective(x: NDArray) -> NDArray:
        return _davidson_parts(x, wins, ties, games)[0] - 0.5 * l2 * (x[:, :m] ** 2).sum(1)

    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - reported after the loop
        _, pw, pl, pt, _ = _davidson_parts(params, wins, ties, games)
        grad = np.empty((rounds, m + 1))
        grad[:, :m] = 0.5 * ((wins - wins.transpose(0, 2, 1)) - games * (pw - pl)).sum(2)
        grad[:, :m] -= l2 * params[:, :m]
        grad[:, m] = 0.5 * (ties - games * pt).sum(axis=(1, 2))
        a = games * ((pw + pl) - (pw - pl) ** 2) / 4.0
        neg_hessian = np.zeros((rounds, m + 1, m + 1))
        neg_hessian[:, :m, :m] = _laplacian(a, l2)
        cross = -0.5 * (games * (pw - pl) * pt).sum(axis=2)
        neg_hessian[:, :m, m] = cross
        neg_hessian[:, m, :m] = cross
        neg_hessian[:, m, m] = 0.5 * (games * pt * (1.0 - pt)).sum(axis=(1, 2))
        # rounds without ties keep log nu fixed
        neg_hessian[~has_ties, m, :] = 0.0
        neg_hessian[~has_ties, :, m] = 0.0
        neg_hessian[~has_ties, m, m] = 1.0
        grad[~has_ties, m] = 0.0
        step = _gauge_solve(neg_hessian, grad, m)
        step[~active] = 0.0
        params = _damped_update(params, step, objective)
        active &= np.abs(step).max(axis=1) > tol
        if not active.any():
            break
    ratings = params[:, :m] - params[:, :m].mean(axis=1, keepdims=True)
    return RatingFit(
        ratings=ratings, log_nu=params[:, m].copy(), converged=~active, iterations=iterations
    )
