"""jobs does not import the pipeline; the pipeline hears about finished jobs by a signal."""

from __future__ import annotations

import ast
from pathlib import Path

import evalhub.jobs
from evalhub.jobs.signals import job_finished
from evalhub.pipeline.signals import nudge_pipelines


def _imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_jobs_app_never_imports_the_pipeline():
    root = Path(evalhub.jobs.__file__).parent
    for path in root.rglob("*.py"):
        imported = _imported_modules(path)
        assert not {m for m in imported if m.startswith("evalhub.pipeline")}, path


def test_the_pipeline_listens_for_finished_jobs():
    receivers = [entry[1]() for entry in job_finished.receivers]
    assert nudge_pipelines in receivers
