"""The demo study: prompts and outputs written by us, loaded through the real importers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from django.contrib.auth import get_user_model
from django.db import transaction

from evalhub.accounts.services import user_create
from evalhub.importing import Row
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.services import model_register, outputs_import
from evalhub.prompts.models import PromptSet
from evalhub.prompts.services import prompts_import
from evalhub.studies.models import Study
from evalhub.studies.services import study_create, study_launch
from evalhub.teams.models import Team
from evalhub.teams.services import team_create

DEMO_FILE = Path(__file__).parent / "data" / "lima_demo.jsonl"
DEMO_SET = "lima-demo"
DEMO_STUDY = "lima-demo"
TARGET = "demo-target"
BASELINES = {"baseline_terse": "demo-baseline-terse", "baseline_generic": "demo-baseline-generic"}
DEMO_TEAM = "demo"
DEMO_RESEARCHER = ("researcher", "researcher-demo")


@dataclass(frozen=True)
class DemoData:
    prompt_set: PromptSet
    study: Study
    created: bool


def _demo_rows() -> list[Row]:
    lines = DEMO_FILE.read_text(encoding="utf-8").splitlines()
    return [(n, json.loads(line)) for n, line in enumerate(lines, start=1) if line.strip()]


@transaction.atomic
def demo_team() -> Team:
    """The demo's team, owned by the demo researcher login (both made on first use)."""
    team = Team.objects.filter(slug=DEMO_TEAM).first()
    if team is not None:
        return team
    username, password = DEMO_RESEARCHER
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = user_create(username=username, password=password, role="researcher", is_staff=True)
        get_user_model().objects.filter(pk=user.pk).update(is_superuser=True)
    return team_create(name="Demo lab", slug=DEMO_TEAM, owner=user)


@transaction.atomic
def demo_load() -> DemoData:
    """Load the demo prompt set, the outputs of a target and two baselines, the study
    `lima-demo` (launched, so raters can start at once) and a researcher login. Running it
    again changes nothing."""
    team = demo_team()
    existing = Study.objects.filter(team=team, slug=DEMO_STUDY).first()
    if existing:
        return DemoData(prompt_set=existing.prompt_set, study=existing, created=False)
    rows = _demo_rows()
    prompt_rows = [(n, {k: r[k] for k in ("id", "text", "category", "context")}) for n, r in rows]
    prompt_set = prompts_import(
        team=team, slug=DEMO_SET, rows=prompt_rows, name="LIMA-style demo prompts"
    ).prompt_set
    target = model_register(
        team=team,
        slug=TARGET,
        name="Demo target (LIMA-style answers)",
        kind=ModelEntry.Kind.EXTERNAL,
    )
    baselines = [
        model_register(
            team=team, slug=slug, name=f"Demo {field.removeprefix('baseline_')} baseline"
        )
        for field, slug in BASELINES.items()
    ]
    for model, field in [(target, "target"), *zip(baselines, BASELINES, strict=True)]:
        outputs_import(
            prompt_set=prompt_set,
            rows=[(n, {"external_id": r["id"], "output": r[field]}) for n, r in rows],
            model=model,
        )
    study = study_create(
        team=team,
        slug=DEMO_STUDY,
        name="LIMA demo: target vs two baselines",
        kind=Study.Kind.PAIRWISE,
        prompt_set=prompt_set,
        target_model=target,
        raters_per_item=3,
        attention_check_rate=0.1,
        session_quota=10,
        completion_code="DEMO-COMPLETE",
        screenout_code="DEMO-SCREENOUT",
        baselines=baselines,
    )
    study = study_launch(study=study)  # rateable at /s/<crowd code>/ right away
    return DemoData(prompt_set=prompt_set, study=study, created=True)
