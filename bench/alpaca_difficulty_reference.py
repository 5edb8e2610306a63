"""alpaca-eval's own joint instruction-difficulty fit on given rows; run inside
bench/.venv-alpaca-eval.

    bench/.venv-alpaca-eval/bin/python bench/alpaca_difficulty_reference.py IN.npz [TOL]

IN.npz holds preference (P(model better), 0..1), length_diff (len(model) - len(baseline)),
model_ids and prompt_ids. As alpaca-eval's notebooks/instruction_difficulty.ipynb does, it
builds per-model tanh(std_delta_len) slopes, per-model intercepts, per-instruction terms
(the first dropped) and a constant column, and fits them all with the package's
fit_LogisticRegressionCV (liblinear, L1, 5-fold GroupKFold CV over the default C grid).
TOL is liblinear's tolerance (the package default 1e-4 when absent). Prints one JSON object:
{"prompts": [...], "difficulty": [...], "c": chosen C, "seconds": fit time, "cpu_seconds"}.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from alpaca_eval.metrics.glm_winrate import fit_LogisticRegressionCV


def main(path: str, tol: float | None) -> None:
    data = np.load(path, allow_pickle=False)
    p, diff = data["preference"], data["length_diff"]
    models, prompts = data["model_ids"], data["prompt_ids"]
    names, model = np.unique(models, return_inverse=True)
    prompt_names, prompt = np.unique(prompts, return_inverse=True)
    delta = pd.Series(-diff)
    sd = delta.groupby(model).transform("std").to_numpy()
    scaled = np.tanh(np.divide(delta.to_numpy(), sd, out=np.zeros_like(sd), where=sd > 0))
    columns = {}
    for j, name in enumerate(names):
        columns[f"length:{name}"] = np.where(model == j, scaled, 0.0)
        columns[f"model:{name}"] = (model == j).astype(float)
    for j in range(1, prompt_names.size):
        columns[f"prompt:{j}"] = (prompt == j).astype(float)
    columns["one"] = np.ones(p.size)
    frame = pd.DataFrame(columns)
    frame["preference"] = p
    kwargs = {} if tol is None else {"tol": tol, "max_iter": 100000}
    started, cpu = time.perf_counter(), time.process_time()
    fitted = fit_LogisticRegressionCV(frame, "preference", is_ytrue_proba=True, n_splits=5,
                                      **kwargs)  # fmt: skip
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    coef = pd.Series(fitted.coef_[0], index=frame.columns.drop("preference"))
    difficulty = [0.0] + [float(coef[f"prompt:{j}"]) for j in range(1, prompt_names.size)]
    print(json.dumps({"prompts": prompt_names.tolist(), "difficulty": difficulty,
                      "c": float(fitted.C_[0]), "seconds": seconds,
                      "cpu_seconds": cpu_seconds}))  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1], float(sys.argv[2]) if len(sys.argv) > 2 else None)
