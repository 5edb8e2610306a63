"""schemathesis against the live schema of a real server (gunicorn, DEBUG off, on the test
database), run as a user would run it: `schemathesis run` with every check and the examples,
coverage, fuzzing and stateful phases, a fixed seed and a researcher's token. The run must
find nothing: no 5xx, no response outside the schema, no schema-valid request refused and
no schema-violating request accepted."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from evalhub.accounts.services import api_token_create
from evalhub.studies.models import Item, Judgment
from evalhub.studies.services import study_launch
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    StudyFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parents[3]
SEED = 18
MAX_EXAMPLES = 4  # per operation and phase: ~3,500 cases in all, a few minutes on two cores
MIN_CASES = 1000


@pytest.fixture
def seeded(alice) -> dict[str, Any]:
    """A launched pairwise study with judgments, so generated requests reach real rows."""
    prompt_set = PromptSetFactory(slug="eval")
    lima, davinci = ModelEntryFactory(slug="lima"), ModelEntryFactory(slug="davinci")
    for i in range(3):
        prompt = PromptFactory(prompt_set=prompt_set, external_id=f"q{i}", text=f"Q{i}?")
        OutputFactory(prompt=prompt, model=lima)
        OutputFactory(prompt=prompt, model=davinci)
    study = StudyFactory(slug="pw", prompt_set=prompt_set, target_model=lima,
                         raters_per_item=1, attention_check_rate=0)  # fmt: skip
    study.baselines.add(davinci)
    study_launch(study=study)
    items = Item.objects.filter(study=study).order_by("id")
    for item, verdict in zip(items, ["target", "tie", "baseline"], strict=True):
        Judgment.objects.create(item=item, judge_group="crowd", verdict=verdict)
    return {"token": api_token_create(team=lab_team(), user=alice)[1]}


def test_schemathesis_finds_nothing_with_every_check_and_phase(api_server, seeded, tmp_path):
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "SCHEMATHESIS_HOOKS": "tests.evalhub.api.schemathesis_hooks",  # JSON Lines bodies
        "NO_COLOR": "1",
    }
    command = [
        str(Path(sys.executable).parent / "schemathesis"), "run",
        f"{api_server}/api/schema/",
        "--header", f"Authorization: Token {seeded['token']}",
        "--checks", "all",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--seed", str(SEED),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "1",
        "--request-timeout", "120",  # the first generation run imports the generation stack
        "--generation-database", "none",
        "--no-color",
        # Revoking the run's own token would end the run (tests/evalhub/teams/test_api.py).
        "--exclude-path-regex", "/team/tokens/.+/revoke/",
    ]  # fmt: skip
    run = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)  # fmt: skip
    output = run.stdout + run.stderr
    Path(os.environ.get("SCHEMATHESIS_LOG", tmp_path / "schemathesis.log")).write_text(output)
    summary = [line for line in output.splitlines() if line.startswith("=")][-1]
    print(summary)  # the run's summary line, e.g. "=== 24 passed in 95.1s ==="
    assert run.returncode == 0, output[-20_000:]
    assert "failure" not in summary and "error" not in summary, output[-20_000:]
    generated = int(re.search(r"(\d+) generated", output).group(1))
    assert generated >= MIN_CASES, output[-5_000:]
    for phase in ("Examples", "Coverage", "Fuzzing", "Stateful"):
        assert re.search(rf"✅ {phase}", output), (phase, output[-5_000:])
