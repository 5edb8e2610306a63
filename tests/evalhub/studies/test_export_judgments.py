import csv
import io
import json

import pytest
from django.core.management import call_command

from evalhub.studies.models import Assignment, Item, Judgment, Rater
from tests.factories import OutputFactory, PromptFactory, StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def judged_study():
    study = StudyFactory(slug="exp")
    prompt = PromptFactory(prompt_set=study.prompt_set, category="coding")
    target = OutputFactory(prompt=prompt, model=study.target_model)
    baseline = OutputFactory(prompt=prompt)
    item = Item.objects.create(
        study=study, prompt=prompt, target_output=target, baseline_output=baseline
    )
    rater = Rater.objects.create(group=Rater.Group.CROWD, external_id_hash="h" * 64)
    from django.utils import timezone

    now = timezone.now()
    assignment = Assignment.objects.create(
        item=item, rater=rater, target_side="B", reserved_at=now, expires_at=now
    )
    Judgment.objects.create(
        item=item, assignment=assignment, rater=rater, judge_group="crowd",
        order=Judgment.Order.BASELINE_FIRST, raw_choice="A", verdict="baseline",
        time_on_task_ms=12345,
    )  # fmt: skip
    return study, target, baseline


def test_it_exports_csv_with_shown_order_and_timing(judged_study, tmp_path):
    study, target, baseline = judged_study
    out = tmp_path / "j.csv"
    call_command(
        "export_judgments", "--team", study.team.slug, "--study", "exp", "--format", "csv",
        "-o", str(out),
    )  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert len(rows) == 1
    row = rows[0]
    assert row["order"] == "baseline_first" and row["target_side"] == "B"
    assert row["time_on_task_ms"] == "12345" and row["verdict"] == "baseline"
    assert row["target_model"] == target.model.slug and row["baseline_model"] == baseline.model.slug
    assert row["category"] == "coding"


def test_it_exports_jsonl(judged_study, capsys):
    team = judged_study[0].team.slug
    call_command("export_judgments", "--team", team, "--study", "exp", "--format", "jsonl")
    lines = capsys.readouterr().out.strip().splitlines()
    assert [json.loads(line)["raw_choice"] for line in lines] == ["A"]
