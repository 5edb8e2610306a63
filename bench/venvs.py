"""Make the benches' own venvs side by side: `python -m bench.venvs` (Makefile's
bench-venvs). Each is made only if missing; pip mostly waits on downloads, so the two
installs overlap rather than queue."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bench.alpaca_venv import ensure_alpaca_venv
from bench.fastchat_venv import ensure_fastchat_venv


def main() -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        for made in [pool.submit(ensure_alpaca_venv), pool.submit(ensure_fastchat_venv)]:
            made.result()  # a failed install fails the make target


if __name__ == "__main__":
    main()
