"""The alpaca-eval package's own LC fit on given rows; run inside bench/.venv-alpaca-eval.

    bench/.venv-alpaca-eval/bin/python bench/alpaca_lc_reference.py IN.npz

IN.npz holds preference (P(model better), 0..1), length_diff (len(model) - len(baseline)),
model_ids and optionally difficulty. Per model it builds the features the way
alpaca_eval.metrics.glm_winrate._get_featurized_data does (std_delta_len = len(baseline) -
len(model) over its sample sd; the given difficulty instead of the downloaded one; no gamed
baselines), turns them into a design matrix with the package's make_dmatrix_for_model, fits
with the package's fit_LogisticRegressionCV and predicts at std_delta_len = 0.
Prints one JSON object: {"lc": {model: LC}, "c": {model: C}, "seconds": fit time,
"cpu_seconds": its CPU time}.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import pandas as pd
from alpaca_eval.metrics.glm_winrate import fit_LogisticRegressionCV, make_dmatrix_for_model

V1 = "np.tanh(std_delta_len) + instruction_difficulty + not_gamed_baseline.astype(float) - 1"
MINIMAL = "np.tanh(std_delta_len) + not_gamed_baseline.astype(float) - 1"


def main(path: str) -> None:
    data = np.load(path, allow_pickle=False)
    has_difficulty = "difficulty" in data.files
    formula = V1 if has_difficulty else MINIMAL
    models = data["model_ids"]
    lc, chosen = {}, {}
    started, cpu = time.perf_counter(), time.process_time()
    for name in np.unique(models):
        rows = models == name
        delta = pd.Series(-data["length_diff"][rows])
        df = pd.DataFrame({"preference": data["preference"][rows]})
        df["std_delta_len"] = delta / delta.std()
        df["instruction_difficulty"] = data["difficulty"][rows] if has_difficulty else 0.0
        df["not_gamed_baseline"] = True
        df_test = df[["instruction_difficulty", "not_gamed_baseline"]].copy()
        df_test["std_delta_len"] = 0
        train, test = make_dmatrix_for_model(df, df_test, formula=formula)
        model = fit_LogisticRegressionCV(train, "preference", is_ytrue_proba=True, n_splits=5)
        lc[str(name)] = float(model.predict_proba(test)[:, 1].mean())
        chosen[str(name)] = float(model.C_[0])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    print(json.dumps({"lc": lc, "c": chosen, "seconds": seconds, "cpu_seconds": cpu_seconds}))


if __name__ == "__main__":
    main(sys.argv[1])
