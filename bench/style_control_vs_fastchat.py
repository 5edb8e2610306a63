"""Style-controlled Bradley-Terry with 100 bootstrap rounds: evalhub.stats against FastChat.

One seeded synthetic set of 1,000,000 battles among 24 models (10% ties), each side with
FastChat's four style counts (assistant tokens, headers, lists, bold) and a planted length
effect, is fitted in the same run by:

  * ours: evalhub.stats.style_control.style_controlled_leaderboard (Newton steps with the
    Hessian assembled by bincount; bootstrap rounds warm-started from the point fit);
  * FastChat's own compute_style_control and compute_bootstrap_style_control
    (fastchat/serve/monitor/rating_systems.py at bench.fastchat_venv.FASTCHAT_COMMIT, in
    bench/.venv-fschat; one L-BFGS-B fit per round over a process pool of all CPUs).
    Its bootstrap runs FASTCHAT_ROUNDS rounds when 100 would take too long, and its time
    is extrapolated to 100 rounds (printed as such).

Run from the repository root: .venv/bin/python bench/stats_vs_fastchat.py --style-control
(`--smoke` for a small size: a check that it works, not a figure). The last line printed is
`ratio: X` = FastChat time / our time, for the point fit plus 100 bootstrap rounds.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from scipy.special import expit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.fastchat_venv import (  # noqa: E402
    FASTCHAT_COMMIT,
    ensure_fastchat_venv,
    fastchat_env,
    fastchat_source,
)
from evalhub.stats.style_control import style_controlled_leaderboard  # noqa: E402

SMOKE = "--smoke" in sys.argv
N_BATTLES = 20_000 if SMOKE else 1_000_000
N_MODELS = 24
ROUNDS = 100
FASTCHAT_ROUNDS = 4 if SMOKE else int(os.environ.get("FASTCHAT_ROUNDS", "8"))
SEED = 20240827
TIE_RATE = 0.10


def synthetic_battles() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(SEED)
    skill = rng.permutation(np.linspace(-0.4, 0.4, N_MODELS))
    verbosity = rng.uniform(150.0, 700.0, N_MODELS)
    a = rng.integers(0, N_MODELS, N_BATTLES)
    b = (a + rng.integers(1, N_MODELS, N_BATTLES)) % N_MODELS
    means = np.array([0.0, 0.8, 4.0, 2.0])
    style_a, style_b = rng.poisson(means, (N_BATTLES, 4)), rng.poisson(means, (N_BATTLES, 4))
    style_a[:, 0], style_b[:, 0] = rng.poisson(verbosity[a]), rng.poisson(verbosity[b])
    ratio = (style_a - style_b) / (style_a + style_b + 1.0)
    logit = math.log(10.0) * (skill[a] - skill[b]) + ratio @ np.array([1.2, 0.3, 0.2, 0.4])
    outcome = np.where(rng.random(N_BATTLES) < expit(logit), 1, -1)
    outcome[rng.random(N_BATTLES) < TIE_RATE] = 0
    names = np.array([f"model-{i:02d}" for i in range(N_MODELS)])
    return {"a": a, "b": b, "outcome": outcome, "names": names,
            "style_a": style_a, "style_b": style_b}  # fmt: skip


def fastchat(data: dict[str, np.ndarray], workdir: Path) -> dict:
    src = fastchat_source()
    if src is None:
        raise SystemExit(
            f"FastChat's rating_systems.py (lm-sys/FastChat@{FASTCHAT_COMMIT[:7]}) is not at "
            "FASTCHAT_SRC or bench/.fastchat-src: no registry ships it; see bench/fastchat_venv.py"
        )
    python = ensure_fastchat_venv()
    path = workdir / "battles.npz"
    np.savez(path, **data)
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "fastchat_style_reference.py"), "fit", str(path),
         str(FASTCHAT_ROUNDS)],
        capture_output=True, text=True, check=True, cwd=ROOT, env=fastchat_env(src),
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    data = synthetic_battles()
    print(f"data: {N_BATTLES:,} battles, {N_MODELS} models, {np.mean(data['outcome'] == 0):.1%} "
          f"ties, {ROUNDS} bootstrap rounds, seed {SEED}, {os.cpu_count()} CPUs"
          f"{' (smoke size)' if SMOKE else ''}")  # fmt: skip
    names = list(data["names"])
    start = time.perf_counter()
    ours = style_controlled_leaderboard(
        data["a"], data["b"], data["outcome"], data["style_a"], data["style_b"], names,
        rounds=ROUNDS, seed=0,
    )  # fmt: skip
    ours_s = time.perf_counter() - start
    assert ours.converged
    print(f"ours (evalhub.stats.style_control; point fit + {ROUNDS} rounds): {ours_s:.2f} s")
    with tempfile.TemporaryDirectory() as tmp:
        theirs = fastchat(data, Path(tmp))
    per_round = theirs["boot_s"] / FASTCHAT_ROUNDS
    theirs_s = theirs["point_s"] + per_round * ROUNDS
    note = "" if FASTCHAT_ROUNDS == ROUNDS else (
        f", bootstrap ran {FASTCHAT_ROUNDS} rounds in {theirs['boot_s']:.1f} s and is "
        f"extrapolated at {per_round:.2f} s/round to {ROUNDS}"
    )  # fmt: skip
    print(f"FastChat compute_style_control + compute_bootstrap_style_control "
          f"(@{FASTCHAT_COMMIT[:7]}, {os.cpu_count()} processes): {theirs_s:.1f} s "
          f"(point fit {theirs['point_s']:.1f} s{note})")  # fmt: skip
    diff = max(abs(ours.ratings[names.index(m)] - r) for m, r in theirs["ratings"].items())
    coef = float(np.abs(ours.coefficients - np.array(theirs["coefficients"])).max())
    print(f"max |ours - FastChat| style-controlled rating: {diff:.4f} points; "
          f"coefficients: {coef:.2e}")  # fmt: skip
    for name, points in zip(ours.feature_names, ours.coefficient_points, strict=True):
        print(f"  +1 sd of {name} is worth {points:+.1f} rating points")
    if diff >= 0.5:
        raise SystemExit("style-controlled ratings differ from FastChat's by 0.5 points or more")
    print(f"ratio: {theirs_s / ours_s:.1f}")


if __name__ == "__main__":
    main()
