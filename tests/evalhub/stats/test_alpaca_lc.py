"""AlpacaEval's LC estimator: ours against the alpaca-eval package's own fit on the same rows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import spearmanr

from bench.alpaca_venv import ROOT, ensure_alpaca_venv
from evalhub.stats.alpaca_lc import (
    FORMULA_MINIMAL,
    FORMULA_V1,
    group_folds,
    is_extreme_change,
    length_controlled_fit,
)
from evalhub.stats.instruction_difficulty import instruction_difficulty

SKILLS = (-1.0, -0.5, 0.0, 0.5, 1.0)
LENGTH_BIAS = (0.2, 0.5, 0.8, 1.1, 1.4)  # log-odds per unit of tanh(length difference / 400)


def planted(n_prompts: int = 400, seed: int = 0) -> dict[str, np.ndarray]:
    """5 models with known skill, length bias and per-prompt difficulty; soft preferences
    with 10% exact ties."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.0, n_prompts)
    parts: dict[str, list[np.ndarray]] = {"preference": [], "length_diff": [], "model_ids": []}
    for m, (skill, bias) in enumerate(zip(SKILLS, LENGTH_BIAS, strict=True)):
        diff = rng.normal(200.0 * (m - 2), 400.0, n_prompts)
        z = skill + bias * np.tanh(diff / 400) + 0.8 * difficulty
        p = 1 / (1 + np.exp(-(z + rng.normal(0.0, 0.5, n_prompts))))
        parts["preference"].append(np.where(rng.random(n_prompts) < 0.1, 0.5, p))
        parts["length_diff"].append(diff)
        parts["model_ids"].append(np.full(n_prompts, f"model-{m}"))
    data = {k: np.concatenate(v) for k, v in parts.items()}
    data["prompt"] = np.tile(np.arange(n_prompts), len(SKILLS))
    data["difficulty"] = difficulty[data["prompt"]]
    return data


def alpaca_eval_lc(tmp_path: Path, data: dict[str, np.ndarray], with_difficulty: bool) -> dict:
    python = ensure_alpaca_venv()
    keys = ["preference", "length_diff", "model_ids"] + (["difficulty"] if with_difficulty else [])
    path = tmp_path / "rows.npz"
    np.savez(path, **{k: data[k] for k in keys})
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "alpaca_lc_reference.py"), str(path)],
        capture_output=True, text=True, check=True, cwd=ROOT, env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("with_difficulty", [True, False], ids=["v1", "minimal"])
def test_it_matches_the_alpaca_eval_package_within_a_tenth_of_a_point(
    tmp_path: Path, with_difficulty: bool
) -> None:
    data = planted()
    ours = length_controlled_fit(
        data["preference"], data["length_diff"], data["model_ids"],
        data["difficulty"] if with_difficulty else None,
    )  # fmt: skip
    theirs = alpaca_eval_lc(tmp_path, data, with_difficulty)
    assert ours.formula == (FORMULA_V1 if with_difficulty else FORMULA_MINIMAL)
    for model, lc in zip(ours.models, ours.length_controlled, strict=True):
        assert abs(lc - theirs["lc"][model]) < 0.001, (model, lc, theirs["lc"][model])
    # The planted length bias pushes raw win rates of long-answer models up: LC pulls it back.
    assert ours.length_controlled[-1] < ours.win_rate[-1]
    assert ours.length_controlled[0] > ours.win_rate[0]


def test_it_recovers_the_planted_difficulty() -> None:
    data = planted(n_prompts=60, seed=1)
    prompts, difficulty = instruction_difficulty(
        data["preference"], data["length_diff"], data["model_ids"], data["prompt"]
    )
    assert prompts.tolist() == list(range(60)) and difficulty[0] == 0.0
    truth = data["difficulty"][:60]
    assert spearmanr(difficulty, truth).statistic > 0.8


def test_it_says_which_row_is_bad() -> None:
    with pytest.raises(ValueError, match="preference row 2"):
        length_controlled_fit([0.5, 0.2, 1.5, 0.1, 0.3], [1, 2, 3, 4, 5], ["a"] * 5)
    with pytest.raises(ValueError, match="needs 3 models"):
        instruction_difficulty([0.5] * 10, [1.0] * 10, ["a", "b"] * 5, list(range(10)))


def test_it_flags_what_alpaca_eval_flags_as_extreme() -> None:
    # 36% -> 50% stays inside max(36 + 64 / 4, 36 + 10) = 52%; 55% does not.
    got = is_extreme_change([0.36, 0.36, 0.36, 0.30], [0.0, 0.5, 0.55, 0.35]).tolist()
    assert got == [True, False, True, False]


def test_folds_follow_group_kfold_round_robin() -> None:
    folds = group_folds(12)
    assert np.bincount(folds).tolist() == [3, 3, 2, 2, 2]
