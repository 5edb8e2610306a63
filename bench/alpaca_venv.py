"""bench/.venv-alpaca-eval: the alpaca-eval package, for benches and parity tests.

alpaca-eval 0.6.6 with scikit-learn 1.5.2: its fit_LogisticRegressionCV uses metadata routing
and make_scorer(response_method=...), which that scikit-learn has (later ones deprecate
LogisticRegression's `penalty`).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPACA_PYTHON = ROOT / "bench" / ".venv-alpaca-eval" / "bin" / "python"
PINS = ("alpaca-eval==0.6.6", "scikit-learn==1.5.2")


def ensure_alpaca_venv() -> Path:
    """Create bench/.venv-alpaca-eval with the pinned packages if it is missing."""
    venv = ALPACA_PYTHON.parent.parent
    if not ALPACA_PYTHON.exists():
        print(f"creating {venv.relative_to(ROOT)} (one-off) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    probe = "import alpaca_eval.metrics.glm_winrate, sklearn; assert sklearn.__version__ == '1.5.2'"
    if subprocess.run([str(ALPACA_PYTHON), "-c", probe], capture_output=True).returncode:
        subprocess.run([str(ALPACA_PYTHON), "-m", "pip", "install", "-q", *PINS], check=True)
    return ALPACA_PYTHON
