"""AlpacaEval's length-controlled win rate for 200 models x 805 prompts, and the joint
instruction-difficulty fit for 22 x 805: ours against the alpaca-eval package's own fits on
the same rows, in the same run.

    .venv/bin/python bench/lc_vs_alpaca_eval.py [--models 200] [--prompts 805]
        [--joint-models 22] [--smoke]

The joint fit (evalhub.stats.instruction_difficulty) is timed beside alpaca-eval's own code
for it (fit_LogisticRegressionCV on the notebook's design, bench/alpaca_difficulty_reference.py),
and `ratio:` (printed last) is theirs / ours for that fit (goal >= 5). `lc ratio:` is the
per-model LC fit's. --smoke: a few models and prompts, seconds.

Planted data: each model has its own skill and length bias, prompts a shared difficulty;
soft preferences with 10% exact ties. Both fits get the same difficulties
(length_controlled_v1 features, no gamed baselines). Ours:
evalhub.stats.alpaca_lc.length_controlled_fit, every model in one batch. Theirs:
alpaca_eval.metrics.glm_winrate.fit_LogisticRegressionCV per model (bench/alpaca_lc_reference.py,
in bench/.venv-alpaca-eval; the time is of the fits, not of starting Python). Prints each
time, the largest LC difference in percentage points, and `ratio: X` (their time / ours) last.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alpaca_venv import ensure_alpaca_venv  # noqa: E402
from evalhub.stats.alpaca_lc import length_controlled_fit  # noqa: E402
from evalhub.stats.instruction_difficulty import instruction_difficulty  # noqa: E402


def planted(n_models: int, n_prompts: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, n_prompts)
    skill = rng.normal(0.0, 1.0, n_models)
    bias = rng.uniform(0.0, 1.5, n_models)
    shift = rng.normal(0.0, 300.0, n_models)
    diff = rng.normal(shift[:, None], 400.0, (n_models, n_prompts))
    z = skill[:, None] + bias[:, None] * np.tanh(diff / 400) + 0.8 * difficulty[None, :]
    p = 1 / (1 + np.exp(-(z + rng.normal(0.0, 0.5, z.shape))))
    p = np.where(rng.random(z.shape) < 0.1, 0.5, p)
    models = np.repeat(np.array([f"model-{m:03d}" for m in range(n_models)]), n_prompts)
    return {
        "preference": p.ravel(),
        "length_diff": diff.ravel(),
        "model_ids": models,
        "difficulty": np.tile(difficulty, n_models),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", type=int, default=200)
    parser.add_argument("--prompts", type=int, default=805)
    parser.add_argument("--joint-models", type=int, default=22)
    parser.add_argument("--smoke", action="store_true", help="a few models and prompts")
    args = parser.parse_args()
    if args.smoke:
        args.models, args.prompts, args.joint_models = 5, 60, 4
    python = ensure_alpaca_venv()
    data = planted(args.models, args.prompts)
    print(f"{args.models} models x {args.prompts} prompts, length_controlled_v1 features")

    started, cpu = time.perf_counter(), time.process_time()
    ours = length_controlled_fit(
        data["preference"], data["length_diff"], data["model_ids"], data["difficulty"]
    )
    ours_s, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"evalhub length_controlled_fit: {ours_s:.2f} s ({ours_cpu:.2f} s CPU)")

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.npz"
        np.savez(path, **data)
        out = subprocess.run(
            [str(python), str(ROOT / "bench" / "alpaca_lc_reference.py"), str(path)],
            capture_output=True, text=True, check=True, cwd=ROOT, env={"HF_HUB_OFFLINE": "1"},
        )  # fmt: skip
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"alpaca-eval 0.6.6 fit_LogisticRegressionCV, per model: {theirs['seconds']:.2f} s "
        f"({theirs['cpu_seconds']:.2f} s CPU)"
    )
    gap = max(abs(lc - theirs["lc"][m]) for m, lc in zip(ours.models, ours.length_controlled,
                                                           strict=True))  # fmt: skip
    print(f"largest LC difference: {100 * gap:.4f} percentage points")
    print(f"lc ratio (CPU): {theirs['cpu_seconds'] / ours_cpu:.1f}")
    print(f"lc ratio: {theirs['seconds'] / ours_s:.1f}")
    joint_fit(python, args.joint_models, args.prompts)


def joint_fit(python: Path, n_models: int, n_prompts: int) -> None:
    """The instruction-difficulty fit over every model: ours, then alpaca-eval's own."""
    data = planted(n_models, n_prompts, seed=1)
    prompts = np.tile(np.arange(n_prompts), n_models)
    print(f"joint difficulty fit: {n_models} models x {n_prompts} prompts")
    started, cpu = time.perf_counter(), time.process_time()
    _, ours = instruction_difficulty(
        data["preference"], data["length_diff"], data["model_ids"], prompts
    )
    ours_s, ours_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"evalhub instruction_difficulty: {ours_s:.2f} s ({ours_cpu:.2f} s CPU)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.npz"
        np.savez(path, preference=data["preference"], length_diff=data["length_diff"],
                 model_ids=data["model_ids"], prompt_ids=prompts)  # fmt: skip
        out = subprocess.run(
            [str(python), str(ROOT / "bench" / "alpaca_difficulty_reference.py"), str(path)],
            capture_output=True, text=True, check=True, cwd=ROOT, env={"HF_HUB_OFFLINE": "1"},
        )  # fmt: skip
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    print(
        f"alpaca-eval 0.6.6 fit_LogisticRegressionCV, joint (liblinear, its default tol): "
        f"{theirs['seconds']:.2f} s ({theirs['cpu_seconds']:.2f} s CPU)"
    )
    gap = float(np.abs(ours - np.array(theirs["difficulty"])).max())
    print(f"largest difficulty difference: {gap:.2e} (theirs stops at liblinear's tol 1e-4)")
    print(f"ratio (CPU): {theirs['cpu_seconds'] / ours_cpu:.1f}")
    print(f"ratio: {theirs['seconds'] / ours_s:.1f}")


if __name__ == "__main__":
    main()
