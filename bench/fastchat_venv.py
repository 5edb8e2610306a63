"""bench/.venv-fschat: FastChat's own code, for the style-control parity test and benches.

fschat 0.2.36 (the newest on PyPI) has the old elo_analysis but predates style control.
FastChat's `compute_style_control` (fastchat/serve/monitor/rating_systems.py) and its
markdown counter (add_markdown_info.py) exist only in the repository, pinned here at
FASTCHAT_COMMIT (add_markdown_info.py at MARKDOWN_COMMIT). This machine reaches package
registries only, so that source is not fetched: put a checkout (or those two files under
fastchat/serve/monitor/, with empty __init__.py files up to fastchat/ so that they shadow the
installed 0.2.36) at FASTCHAT_SRC, default bench/.fastchat-src (git-ignored). Runs that need
it say so and skip without it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FSCHAT_VENV = ROOT / "bench" / ".venv-fschat"
FSCHAT_PYTHON = FSCHAT_VENV / "bin" / "python"
FASTCHAT_COMMIT = "2bdb2e0cf988821ecd40cdb6db40e5e01efe7c85"  # lm-sys/FastChat main
MARKDOWN_COMMIT = "770244a02d4306b3fabedcd73e6766f258b5cbbd"  # add_markdown_info.py
# fschat itself goes in without its dependencies: those serve its chat servers (fastapi,
# uvicorn, tiktoken, markdown2[all], ...), which the Elo code never imports; the pins below
# are all that elo_analysis needs, and leaving the rest out cuts the one-off install to a
# fraction.
FSCHAT = "fschat==0.2.36"
PINS = (
    "numpy==2.3.5",
    "scipy==1.17.1",
    "pandas==2.3.3",
    "tqdm==4.67.1",
    "scikit-learn==1.7.2",
    # fschat 0.2.36's elo_analysis imports these at module level
    "pytz",
    "plotly",
)
MONITOR = Path("fastchat") / "serve" / "monitor"


def fastchat_source() -> Path | None:
    """The FastChat checkout with rating_systems.py, or None where there is none."""
    src = Path(os.environ.get("FASTCHAT_SRC", ROOT / "bench" / ".fastchat-src"))
    return src if (src / MONITOR / "rating_systems.py").is_file() else None


def ensure_fastchat_venv() -> Path:
    """Create bench/.venv-fschat with the pinned packages if it is missing."""
    if not FSCHAT_PYTHON.exists():
        print(f"creating {FSCHAT_VENV.relative_to(ROOT)} (one-off) ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(FSCHAT_VENV)], check=True)
    probe = "import fastchat, pandas, scipy, tqdm, sklearn, pytz, plotly"
    if subprocess.run([str(FSCHAT_PYTHON), "-c", probe], capture_output=True).returncode:
        pip = [str(FSCHAT_PYTHON), "-m", "pip", "install", "-q"]
        subprocess.run([*pip, *PINS], check=True)
        subprocess.run([*pip, "--no-deps", FSCHAT], check=True)
    return FSCHAT_PYTHON


def fastchat_env(src: Path) -> dict[str, str]:
    """Environment that runs the checkout's fastchat ahead of the installed 0.2.36."""
    return {"PYTHONPATH": str(src), "PATH": os.environ.get("PATH", ""), "HF_HUB_OFFLINE": "1"}
