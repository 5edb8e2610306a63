"""The joint instruction-difficulty fit: the same optimum as alpaca-eval's own fit (run to
convergence) and as the scipy L-BFGS-B fit it replaces, far faster."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.alpaca_venv import ensure_alpaca_venv
from evalhub.stats.alpaca_lc import CS, _loss_and_probability
from evalhub.stats.instruction_difficulty import _Design, instruction_difficulty, joint_l1_fit
from tests.evalhub.stats import difficulty_reference
from tests.evalhub.stats.test_alpaca_lc import planted

ROOT = Path(__file__).resolve().parents[3]


def _rows(n_prompts: int = 40) -> dict[str, np.ndarray]:
    return planted(n_prompts=n_prompts, seed=3)


def test_it_equals_alpaca_eval_s_own_joint_fit_run_to_convergence(tmp_path: Path) -> None:
    data = _rows()
    path = tmp_path / "rows.npz"
    np.savez(path, preference=data["preference"], length_diff=data["length_diff"],
             model_ids=data["model_ids"], prompt_ids=data["prompt"])  # fmt: skip
    python = ensure_alpaca_venv()
    out = subprocess.run(
        [str(python), str(ROOT / "bench" / "alpaca_difficulty_reference.py"), str(path), "1e-10"],
        capture_output=True, text=True, check=True, cwd=ROOT, env={"HF_HUB_OFFLINE": "1"},
    )  # fmt: skip
    theirs = json.loads(out.stdout.strip().splitlines()[-1])
    prompts, ours = instruction_difficulty(
        data["preference"], data["length_diff"], data["model_ids"], data["prompt"]
    )
    assert prompts.tolist() == theirs["prompts"]
    assert np.abs(ours - np.array(theirs["difficulty"])).max() < 1e-6
    # The planted difficulty comes back (up to the first prompt's offset and a shrinkage).
    assert np.corrcoef(ours, data["difficulty"][: prompts.size])[0, 1] > 0.8


def test_it_matches_the_l_bfgs_fit_it_replaces_and_reaches_a_lower_objective() -> None:
    data = _rows()
    args = (data["preference"], data["length_diff"], data["model_ids"], data["prompt"])
    _, ours = instruction_difficulty(*args)
    _, before = difficulty_reference.instruction_difficulty(*args)
    # L-BFGS-B stops at a relative objective change of 1e-13, a few 1e-6 short in the terms.
    assert np.abs(ours - before).max() < 1e-5


@pytest.mark.parametrize("c", [CS[3], CS[5], CS[8]])
def test_each_fit_meets_the_optimality_conditions(c: float) -> None:
    data = _rows()
    names, model = np.unique(data["model_ids"], return_inverse=True)
    prompt = data["prompt"]
    delta = -data["length_diff"]
    sd = np.array([np.std(delta[model == j], ddof=1) for j in range(names.size)])
    design = _Design(np.tanh(delta / sd[model]), model, prompt, names.size, prompt.max() + 1, 1)
    cw = np.full((1, prompt.size), c)
    w = joint_l1_fit(design, data["preference"], cw)
    _, q = _loss_and_probability(design.logits(w), data["preference"])
    grad = design.gradient(cw * (q - data["preference"]))
    # Subgradient condition of ||w||_1 + loss: grad = -sign(w) where w != 0, |grad| <= 1 else.
    residual = np.where(w != 0, grad + np.sign(w), np.maximum(np.abs(grad) - 1, 0))
    residual[0, design.k] = 0.0  # the first prompt's term is fixed at 0
    assert np.abs(residual).max() < 1e-7 * max(1.0, c)


def test_it_refuses_fewer_than_three_models() -> None:
    data = _rows(10)
    two = np.isin(data["model_ids"], ["model-0", "model-1"])
    with pytest.raises(ValueError, match="needs 3 models"):
        instruction_difficulty(*(data[k][two] for k in ("preference", "length_diff",
                                                         "model_ids", "prompt")))  # fmt: skip
