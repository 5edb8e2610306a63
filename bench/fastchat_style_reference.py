"""Run FastChat's own style code on rows from EvalHub; print one JSON line.

Runs in bench/.venv-fschat with the FastChat checkout first on PYTHONPATH
(bench.fastchat_venv.fastchat_env). Usage:
  python bench/fastchat_style_reference.py fit BATTLES.npz ROUNDS
      compute_style_control (and compute_bootstrap_style_control when ROUNDS > 0) on the
      battles: arrays a, b, outcome (1 / 0 / -1), names, style_a, style_b (n, 4) raw counts.
  python bench/fastchat_style_reference.py markdown TEXTS.json
      add_markdown_info's count_markdown_elements after remove_pattern, per text.
"""

from __future__ import annotations

import json
import re
import sys
import time
import types


def fit(path: str, rounds: int) -> dict:
    import numpy as np
    import pandas as pd
    from fastchat.serve.monitor.rating_systems import (
        compute_bootstrap_style_control,
        compute_style_control,
    )

    data = np.load(path)
    names = np.array([str(n) for n in data["names"]])
    winner = np.array(["model_b", "tie", "model_a"])[data["outcome"] + 1]
    keys = ("sum_assistant_{}_tokens", "header_count_{}", "list_count_{}", "bold_count_{}")
    meta = [
        {
            key.format(side): int(v)
            for side, row in (("a", ra), ("b", rb))
            for key, v in zip(keys, row, strict=True)
        }
        for ra, rb in zip(data["style_a"].tolist(), data["style_b"].tolist(), strict=True)
    ]
    df = pd.DataFrame(
        {
            "model_a": names[data["a"]],
            "model_b": names[data["b"]],
            "winner": winner,
            "conv_metadata": meta,
        }
    )
    start = time.perf_counter()
    ratings, params = compute_style_control(df)
    out = {
        "ratings": {str(k): float(v) for k, v in ratings.items()},
        "coefficients": [float(x) for x in params],
        "point_s": time.perf_counter() - start,
    }
    if rounds:
        np.random.seed(0)
        start = time.perf_counter()
        boot, _ = compute_bootstrap_style_control(df, rounds)
        out["boot_s"] = time.perf_counter() - start
        out["lower"] = {str(k): float(v) for k, v in boot.quantile(0.025).items()}
        out["upper"] = {str(k): float(v) for k, v in boot.quantile(0.975).items()}
    return out


def markdown(path: str) -> dict:
    # some versions import an LLM client helper at import time that counting never uses
    stub = types.ModuleType("fastchat.serve.monitor.utils_llm")
    stub.get_llm_output = None
    sys.modules["fastchat.serve.monitor.utils_llm"] = stub
    from fastchat.serve.monitor.add_markdown_info import count_markdown_elements, remove_pattern

    pattern = re.compile("```([^`]*)```")
    texts = json.load(open(path))
    counts = []
    for text in texts:
        raw = count_markdown_elements(remove_pattern(text, pattern), suffix="_a")
        counts.append(
            [sum(raw[f"{k}_a"].values()) for k in ("header_count", "list_count", "bold_count")]
        )
    return {"counts": counts}


if __name__ == "__main__":
    mode = sys.argv[1]
    result = fit(sys.argv[2], int(sys.argv[3])) if mode == "fit" else markdown(sys.argv[2])
    print(json.dumps(result))
