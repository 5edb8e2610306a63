"""The stats tests are pure (no database): they also run with `-p no:django`.

pyproject's addopts pass pytest-django's `--reuse-db`; with the plugin disabled nobody
defines that flag and pytest refuses to start, so accept it here as a no-op.
"""

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    try:
        parser.addoption("--reuse-db", action="store_true", help="no-op without pytest-django")
    except ValueError:  # pytest-django is active and already owns the flag
        pass
