"""Run FastChat's own style code (bench/fastchat_style_reference.py) from the stats tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from bench.fastchat_venv import (
    FASTCHAT_COMMIT,
    ROOT,
    ensure_fastchat_venv,
    fastchat_env,
    fastchat_source,
)

SCRIPT = ROOT / "bench" / "fastchat_style_reference.py"


def _run(*args: str) -> dict:
    src = fastchat_source()
    if src is None:
        pytest.skip(
            f"FastChat's rating_systems.py (lm-sys/FastChat@{FASTCHAT_COMMIT[:7]}) is not at "
            "FASTCHAT_SRC / bench/.fastchat-src; no registry ships it (see bench/fastchat_venv.py)"
        )
    python = ensure_fastchat_venv()
    out = subprocess.run(
        [str(python), str(SCRIPT), *args],
        capture_output=True, text=True, check=True, cwd=ROOT, env=fastchat_env(src),
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def fastchat_style_control(tmp_path: Path, battles: dict[str, np.ndarray], rounds: int) -> dict:
    """FastChat's compute_style_control (+ bootstrap when rounds > 0) on the battles."""
    path = tmp_path / "battles.npz"
    np.savez(path, **battles)
    return _run("fit", str(path), str(rounds))


def fastchat_markdown_counts(tmp_path: Path, texts: list[str]) -> list[list[int]]:
    """[headers, lists, bold] per text, by FastChat's add_markdown_info."""
    path = tmp_path / "texts.json"
    path.write_text(json.dumps(texts))
    return _run("markdown", str(path))["counts"]
