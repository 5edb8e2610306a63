"""Bradley-Terry leaderboard with 100 bootstrap rounds: evalhub.stats against FastChat.

One seeded synthetic set of 1,000,000 pairwise battles among 20 models (15% ties, known
strengths) is fitted, in the same run, by:

  * ours: evalhub.stats.bradley_terry_leaderboard (cell counts by bincount, one multinomial
    draw for all rounds, all rounds fitted together by batched Newton steps);
  * FastChat 0.2.36 (PyPI `fschat`): fastchat.serve.monitor.elo_analysis
    compute_elo_mle_with_tie + get_bootstrap_result, run in its own venv
    (bench/.venv-fschat, made by bench/fastchat_venv.py if missing) through a subprocess;
  * newest FastChat, REIMPLEMENTED HERE from its published fastchat/serve/monitor/
    rating_systems.py (preprocess_for_bt, bt_loss_and_grad, fit_bt, compute_bootstrap_bt):
    unique (model_a, model_b, outcome) rows with counts, multinomial resampling of the
    counts, one scipy L-BFGS-B fit per round over a multiprocessing pool of all CPUs.

Run from the repository root: .venv/bin/python bench/stats_vs_fastchat.py
The last line printed is `ratio: X` = newest-FastChat time / our time.

`--style-control` runs the style-controlled comparison instead (1,000,000 battles, 24
models, 100 rounds against FastChat's own compute_bootstrap_style_control; see
bench/style_control_vs_fastchat.py); add `--smoke` for a small size.
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import minimize
from scipy.special import expit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fastchat_venv import ensure_fastchat_venv  # noqa: E402
from evalhub.stats.bradley_terry import bradley_terry_leaderboard  # noqa: E402

N_BATTLES = 1_000_000
N_MODELS = 20
TIE_RATE = 0.15
ROUNDS = 100
SEED = 20230518
OLD_BUDGET_S = 300.0  # above this, the old bootstrap runs fewer rounds and is extrapolated


def synthetic_battles() -> tuple[NDArray, NDArray, NDArray, NDArray, list[str]]:
    """Seeded battles: uniform pairs and sides, 15% ties, decisive games drawn by BT."""
    rng = np.random.default_rng(SEED)
    true_ratings = rng.permutation(np.linspace(850.0, 1150.0, N_MODELS))
    a = rng.integers(0, N_MODELS, N_BATTLES)
    b = (a + rng.integers(1, N_MODELS, N_BATTLES)) % N_MODELS
    p_a = 1.0 / (1.0 + 10.0 ** ((true_ratings[b] - true_ratings[a]) / 400.0))
    outcome = np.where(rng.random(N_BATTLES) < p_a, 1, -1)
    outcome[rng.random(N_BATTLES) < TIE_RATE] = 0
    names = [f"model-{i:02d}" for i in range(N_MODELS)]
    return a.astype(np.int64), b.astype(np.int64), outcome.astype(np.int64), true_ratings, names


# --- newest FastChat, reimplemented from rating_systems.py (labelled peer) -------------------


def newest_preprocess_for_bt(
    a: NDArray, b: NDArray, outcome: NDArray
) -> tuple[NDArray, NDArray, NDArray]:
    """preprocess_for_bt: unique (a, b, outcome id) rows and their counts via np.unique."""
    schedule = np.full((a.size, 3), fill_value=1, dtype=np.int32)
    schedule[:, 0], schedule[:, 1] = a, b
    schedule[outcome == 1, 2] = 2
    schedule[outcome == -1, 2] = 0
    matchups_outcomes, weights = np.unique(schedule, return_counts=True, axis=0)
    matchups = matchups_outcomes[:, [0, 1]]
    outcomes = matchups_outcomes[:, 2].astype(np.float64) / 2.0
    return matchups, outcomes, weights.astype(np.float64)


def newest_bt_loss_and_grad(
    ratings: NDArray, matchups: NDArray, outcomes: NDArray, weights: NDArray, alpha: float = 1.0
) -> tuple[float, NDArray]:
    """bt_loss_and_grad: weighted logistic loss, a tie counts as half a win."""
    matchup_ratings = ratings[matchups]
    logits = alpha * (matchup_ratings[:, 0] - matchup_ratings[:, 1])
    probs = expit(logits)
    loss = -((np.log(probs) * outcomes + np.log(1.0 - probs) * (1.0 - outcomes)) * weights).sum()
    matchups_grads = -alpha * (outcomes - probs) * weights
    model_grad = np.zeros_like(ratings)
    np.add.at(
        model_grad,
        matchups[:, [0, 1]],
        matchups_grads[:, None] * np.array([1.0, -1.0], dtype=np.float64),
    )
    return loss, model_grad


def newest_fit_bt(
    matchups: NDArray,
    outcomes: NDArray,
    weights: NDArray,
    n_models: int,
    alpha: float,
    tol: float = 1e-6,
) -> NDArray:
    """fit_bt: one L-BFGS-B fit from zeros (maxiter 100, gtol tol)."""
    result = minimize(
        fun=newest_bt_loss_and_grad,
        x0=np.zeros(n_models, dtype=np.float64),
        args=(matchups, outcomes, weights, alpha),
        jac=True,
        method="L-BFGS-B",
        options={"disp": False, "maxiter": 100, "gtol": tol},
    )
    return result["x"]


def newest_fastchat(a: NDArray, b: NDArray, outcome: NDArray) -> tuple[NDArray, NDArray, float]:
    """compute_bt + compute_bootstrap_bt: point ratings, (ROUNDS, M) bootstrap ratings, and
    the seconds spent collapsing battles into unique rows (np.unique on 1e6 rows).
    """
    start = time.perf_counter()
    matchups, outcomes, weights = newest_preprocess_for_bt(a, b, outcome)
    preprocess_s = time.perf_counter() - start
    alpha = math.log(10.0)
    point = newest_fit_bt(matchups, outcomes, weights, N_MODELS, alpha) * 400.0 + 1000.0
    rng = np.random.default_rng(seed=0)
    idxs = rng.multinomial(n=a.size, pvals=weights / weights.sum(), size=ROUNDS)
    boot_weights = idxs.astype(np.float64) / a.size
    bt_fn = partial(newest_fit_bt, matchups, outcomes, n_models=N_MODELS, alpha=alpha, tol=1e-6)
    with mp.Pool(os.cpu_count()) as pool:
        results = list(pool.imap_unordered(bt_fn, boot_weights))
    return point, np.array(results) * 400.0 + 1000.0, preprocess_s


# --- FastChat 0.2.36 from PyPI, in its own venv --------------------------------------------

OLD_DRIVER = r"""
import json, sys, time, types
import numpy as np, pandas as pd

# elo_analysis imports model_registry / basic_stats / clean_battle_data at module level; the
# real ones pull in torch and transformers, which the Elo code never uses, so stub them.
for name, attrs in {
    "fastchat.model": {}, "fastchat.model.model_registry": {"get_model_info": None},
    "fastchat.serve.monitor.basic_stats": {"get_log_files": None},
    "fastchat.serve.monitor.clean_battle_data": {"clean_battle_data": None},
}.items():
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    sys.modules[name] = module
from fastchat.serve.monitor.elo_analysis import compute_elo_mle_with_tie, get_bootstrap_result

data_path, out_path, budget = sys.argv[1], sys.argv[2], float(sys.argv[3])
data = np.load(data_path)
names = np.array([str(n) for n in data["names"]])
winner = np.array(["model_b", "tie", "model_a"])[data["outcome"] + 1]
df = pd.DataFrame({"model_a": names[data["a"]], "model_b": names[data["b"]], "winner": winner})
start = time.perf_counter()
point = compute_elo_mle_with_tie(df)
point_s = time.perf_counter() - start
rounds = int(data["rounds"])
# one bootstrap round costs a resample plus a fit; keep the whole run within the budget
estimate = rounds * point_s * 1.2
run_rounds = rounds if estimate <= budget else max(2, min(rounds, int(60.0 / point_s)))
np.random.seed(0)
start = time.perf_counter()
boot = get_bootstrap_result(df, compute_elo_mle_with_tie, run_rounds)
boot_s = time.perf_counter() - start
json.dump({"point": {k: float(v) for k, v in point.items()}, "point_s": point_s,
           "boot_s": boot_s, "run_rounds": run_rounds,
           "boot": {k: [float(x) for x in boot[k]] for k in boot.columns}}, open(out_path, "w"))
"""


@dataclass(frozen=True)
class OldFastChatRun:
    """What the fschat 0.2.36 driver measured: point ratings by name and timings."""

    point: dict[str, float]
    point_s: float
    boot_s: float
    run_rounds: int

    @property
    def extrapolated(self) -> bool:
        return self.run_rounds < ROUNDS

    @property
    def boot_100_s(self) -> float:
        """Bootstrap time scaled to ROUNDS rounds (exact when all rounds ran)."""
        return self.boot_s / self.run_rounds * ROUNDS


def old_fastchat(
    a: NDArray, b: NDArray, outcome: NDArray, names: list[str], workdir: Path
) -> OldFastChatRun:
    """Run fschat 0.2.36's MLE and bootstrap in its venv on the same battles."""
    python = ensure_fastchat_venv()
    data_path, out_path = workdir / "battles.npz", workdir / "old.json"
    np.savez(data_path, a=a, b=b, outcome=outcome, names=np.array(names), rounds=ROUNDS)
    driver = workdir / "old_driver.py"
    driver.write_text(OLD_DRIVER)
    subprocess.run(
        [str(python), str(driver), str(data_path), str(out_path), str(OLD_BUDGET_S)],
        check=True,
        stderr=subprocess.DEVNULL,  # tqdm bars
    )
    raw = json.loads(out_path.read_text())
    return OldFastChatRun(
        point={str(k): float(v) for k, v in raw["point"].items()},
        point_s=float(raw["point_s"]),
        boot_s=float(raw["boot_s"]),
        run_rounds=int(raw["run_rounds"]),
    )


def time_ours(a: NDArray, b: NDArray, outcome: NDArray, names: list[str]) -> tuple[float, float]:
    """Median and best of 5 timed runs of ours, in seconds, after one small warm-up."""
    bradley_terry_leaderboard(a[:10_000], b[:10_000], outcome[:10_000], names, rounds=5)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        bradley_terry_leaderboard(a, b, outcome, names, rounds=ROUNDS, seed=0)
        times.append(time.perf_counter() - start)
    return statistics.median(times), min(times)


def main() -> None:
    global N_BATTLES, ROUNDS, OLD_BUDGET_S
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="20,000 battles, 5 rounds")
    if parser.parse_args().smoke:  # the size tests/bench/test_smoke.py runs
        N_BATTLES, ROUNDS, OLD_BUDGET_S = 20_000, 5, 20.0
    # upstream passes L-BFGS-B's `disp` option, which SciPy 1.17 deprecates; keep it, quietly
    warnings.filterwarnings("ignore", message=".*`disp` and `iprint`", category=DeprecationWarning)
    a, b, outcome, true_ratings, names = synthetic_battles()
    print(
        f"data: {N_BATTLES:,} battles, {N_MODELS} models, {np.mean(outcome == 0):.1%} ties, "
        f"{ROUNDS} bootstrap rounds, seed {SEED}, {os.cpu_count()} CPUs"
    )
    ours_s, ours_best = time_ours(a, b, outcome, names)
    ours = bradley_terry_leaderboard(a, b, outcome, names, rounds=ROUNDS, seed=0)
    assert ours.converged
    print(
        f"ours (evalhub.stats; raw arrays -> counts -> point fit + {ROUNDS} rounds): "
        f"{ours_s:.3f} s (median of 5, best {ours_best:.3f} s)"
    )

    start = time.perf_counter()
    new_point, new_boot, new_preprocess_s = newest_fastchat(a, b, outcome)
    newest_s = time.perf_counter() - start
    print(
        "newest FastChat (reimplemented here from rating_systems.py: np.unique counts, "
        f"one L-BFGS-B fit per round on {os.cpu_count()} processes): {newest_s:.3f} s "
        f"(np.unique {new_preprocess_s:.3f} s + fits {newest_s - new_preprocess_s:.3f} s)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        old = old_fastchat(a, b, outcome, names, Path(tmp))
    if old.extrapolated:
        print(
            f"fschat 0.2.36: {ROUNDS} rounds would exceed {OLD_BUDGET_S:.0f} s, so ran "
            f"{old.run_rounds} rounds ({old.boot_s:.1f} s) and extrapolated "
            f"{old.boot_s / old.run_rounds:.2f} s/round to {ROUNDS} rounds"
        )
    old_total_s = old.point_s + old.boot_100_s
    note = " extrapolated" if old.extrapolated else ""
    print(
        "fschat 0.2.36 (PyPI; sklearn LogisticRegression on duplicated battles, "
        f"DataFrame.sample per round): {old_total_s:.1f} s "
        f"(point fit {old.point_s:.1f} s + bootstrap {old.boot_100_s:.1f} s{note})"
    )

    old_point = np.array([old.point[n] for n in names])
    diff_old = float(np.abs(ours.ratings - old_point).max())
    diff_new = float(np.abs(ours.ratings - new_point).max())
    new_lower, new_upper = np.quantile(new_boot, [0.025, 0.975], axis=0)
    same_order = bool(np.array_equal(np.argsort(ours.ratings), np.argsort(true_ratings)))
    print(f"max |ours - fschat 0.2.36| point rating: {diff_old:.4f} points")
    print(f"max |ours - newest FastChat| point rating: {diff_new:.4f} points")
    print(
        f"95% interval width, median over models: ours {np.median(ours.upper - ours.lower):.2f}, "
        f"newest FastChat {np.median(new_upper - new_lower):.2f} points"
    )
    print(f"ranking by our ratings matches the known strengths: {same_order}")
    print(f"time ours: {ours_s:.3f} s")
    print(f"time newest FastChat: {newest_s:.3f} s")
    print(f"time fschat 0.2.36: {old_total_s:.1f} s{' (extrapolated)' if old.extrapolated else ''}")
    if max(diff_old, diff_new) >= 1.0:
        raise SystemExit("rating difference to FastChat is 1 point or more")
    print(f"ratio: {newest_s / ours_s:.1f}")


if __name__ == "__main__":
    if "--style-control" in sys.argv:
        from bench.style_control_vs_fastchat import main as style_control_main

        style_control_main()
    else:
        main()
