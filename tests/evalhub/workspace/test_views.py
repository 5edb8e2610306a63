"""The workspace pages through Django's test client: uploads with preview, new study,
lifecycle, rater preview, monitor and exports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.services import outputs_import_job
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Assignment, Item, Judgment, Study
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db

LIMA_ROWS = [
    {"conversations": ["How do I boil an egg?"], "source": "stackexchange"},
    {"conversations": ["Write a haiku about rain."], "source": "wikihow"},
    {
        "conversations": ["Hi!", "Hello! How can I help?", "Plan a trip to Rome."],
        "source": "manual",
    },
]


@pytest.fixture
def researcher(client, alice, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(alice)
    return client


def _upload(client, name: str, content: str, **fields):
    data = {"kind": "prompts", "prompt_set": "lima-eval", **fields}
    data["file"] = SimpleUploadedFile(name, content.encode())
    return client.post(reverse("workspace:upload"), data)


def _run_job(job: Job) -> dict:
    # The handler the worker runs (the browser flow runs it on a real worker).
    return outputs_import_job(job)


def test_a_lima_prompt_file_is_previewed_then_imported_by_a_job(researcher, alice):
    content = "\n".join(json.dumps(r) for r in LIMA_ROWS)
    response = _upload(researcher, "lima_test.jsonl", content)
    page = response.content.decode()
    preview = response.context["preview"]
    assert (preview["format"], preview["rows"], preview["problems"]) == ("LIMA JSONL", 3, [])
    assert not PromptSet.objects.exists()  # the preview writes nothing
    token = re.search(r"/uploads/([0-9a-f]{32})/import/", page).group(1)

    confirmed = researcher.post(reverse("workspace:upload_import", args=[token]))
    job = Job.objects.get()
    assert confirmed["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.kind == "import" and job.params["what"] == "prompts" and job.requested_by == alice
    assert _run_job(job) == {"prompt_set": "lima-eval", "created": 3}
    assert list(Prompt.objects.values_list("text", flat=True).order_by("position")) == [
        "How do I boil an egg?", "Write a haiku about rain.", "Plan a trip to Rome.",
    ]  # fmt: skip
    assert not Path(job.params["path"]).exists()
    again = researcher.post(reverse("workspace:upload_import", args=[token]))
    assert again["Location"] == reverse("workspace:upload") and Job.objects.count() == 1


def test_plain_jsonl_and_csv_prompt_files_are_recognised(researcher):
    plain = '{"id": "a", "text": "One?", "category": "x"}\n{"id": "b", "text": "Two?"}'
    assert _upload(researcher, "p.jsonl", plain).context["preview"]["format"] == (
        "{id, text, category} JSONL"
    )
    csv_text = "id,text,category\na,One?,x\nb,Two?,y\n"
    preview = _upload(researcher, "p.csv", csv_text).context["preview"]
    assert (preview["format"], preview["rows"], preview["problems"]) == ("CSV", 2, [])


def test_a_bad_file_shows_row_field_message_and_writes_nothing(researcher, settings):
    content = '{"id": "a", "text": "One?"}\n{"id": "a", "text": "Again?"}\n{"id": "c"}\n'
    response = _upload(researcher, "bad.jsonl", content)
    problems = response.context["preview"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "id"), (3, "text")]
    page = response.content.decode()
    assert 'id="problems"' in page and "duplicate id" in page and "upload-confirm" not in page
    assert not PromptSet.objects.exists() and not Job.objects.exists()
    assert not any(Path(settings.UPLOAD_DIR).iterdir())


@pytest.fixture
def eval_set():
    prompt_set = PromptSetFactory(slug="lima-eval")
    for i in range(4):
        PromptFactory(prompt_set=prompt_set, external_id=f"q{i}", text=f"Question {i}?")
    return prompt_set


def test_alpaca_eval_outputs_with_two_generators(researcher, eval_set):
    rows = [{"instruction": f"Question {i}?", "output": f"{g} says {i}", "generator": g}
            for g in ("lima-65b", "davinci-003") for i in range(4)]  # fmt: skip
    rows.append({"instruction": "Not in the set?", "output": "x", "generator": "lima-65b"})
    response = _upload(researcher, "model_outputs.json", json.dumps(rows), kind="outputs")
    preview = response.context["preview"]
    assert preview["format"] == "AlpacaEval JSON" and preview["rows"] == 9
    assert preview["models"] == {"davinci-003": 4, "lima-65b": 5}
    assert [(p["row"], p["field"]) for p in preview["unmatched"]] == [(9, "instruction")]
    assert not Output.objects.exists() and not ModelEntry.objects.exists()

    good = _upload(researcher, "model_outputs.json", json.dumps(rows[:8]), kind="outputs")
    assert good.context["preview"]["problems"] == []
    token = good.context["token"]
    researcher.post(reverse("workspace:upload_import", args=[token]))
    assert _run_job(Job.objects.get()) == {
        "created": 8, "unchanged": 0, "models_created": ["lima-65b", "davinci-003"],
    }  # fmt: skip


def test_csv_outputs_for_a_named_model(researcher, eval_set):
    csv_text = "external_id,output\nq0,A0\nq1,A1\n"
    response = _upload(researcher, "outs.csv", csv_text, kind="outputs", model="mine")
    preview = response.context["preview"]
    assert (preview["format"], preview["models"], preview["problems"]) == (
        "CSV", {"mine": 2}, [],
    )  # fmt: skip
    researcher.post(reverse("workspace:upload_import", args=[response.context["token"]]))
    assert _run_job(Job.objects.get())["created"] == 2
    assert set(Output.objects.values_list("model__slug", "text")) == {
        ("mine", "A0"),
        ("mine", "A1"),
    }


@pytest.fixture
def models(eval_set):
    lima, davinci = ModelEntryFactory(slug="lima"), ModelEntryFactory(slug="davinci")
    for prompt in eval_set.prompts.all():
        OutputFactory(prompt=prompt, model=lima, text=f"lima {prompt.external_id}")
        if prompt.external_id != "q3":
            OutputFactory(prompt=prompt, model=davinci, text=f"davinci {prompt.external_id}")
    ModelEntryFactory(slug="empty")
    return lima, davinci


STUDY = {
    "slug": "lima-vs-davinci", "name": "LIMA vs DaVinci", "kind": "pairwise",
    "prompt_set": "lima-eval", "target_model": "lima", "baselines": ["davinci"],
    "raters_per_item": 2, "attention_check_rate": 0.0, "session_quota": 5,
    "reservation_minutes": 15, "completion_code": "C0DE", "screenout_code": "SCR", "interval_width": 0.1,
}  # fmt: skip


def test_the_plan_shows_coverage_items_and_the_planner(researcher, models):
    query = {k: v for k, v in STUDY.items() if k not in ("slug", "name")}
    plan = researcher.get(reverse("workspace:study_new_plan"), query).json()
    assert plan["coverage"] == [
        {"model": "lima", "outputs": 4, "missing": 0},
        {"model": "davinci", "outputs": 3, "missing": 1},
    ]
    assert (plan["covered"], plan["left_out"], plan["items"], plan["judgments_needed"]) == (
        3, ["q3"], 3, 6,
    )  # fmt: skip
    assert plan["planner"]["prompts_needed"] == 385


def test_a_new_study_is_created_launched_on_covered_prompts_and_closed(researcher, models):
    created = researcher.post(reverse("workspace:study_new"), STUDY)
    assert created["Location"] == reverse("workspace:study", args=["lima-vs-davinci"])
    study = Study.objects.get()
    assert study.reservation_seconds == 900 and study.status == "draft"
    confirm = researcher.get(reverse("workspace:study_transition", args=[study.slug, "launch"]))
    assert b"Yes, launch" in confirm.content and Study.objects.get().status == "draft"
    researcher.post(reverse("workspace:study_transition", args=[study.slug, "launch"]))
    study.refresh_from_db()
    assert study.status == "launched" and study.config["prompts_left_out"] == ["q3"]
    page = researcher.get(reverse("workspace:study", args=[study.slug])).content.decode()
    assert "PROLIFIC_PID={{%PROLIFIC_PID%}}" in page and "cc=C0DE" in page
    assert "1 prompt left out" in page
    researcher.post(reverse("workspace:study_transition", args=[study.slug, "close"]))
    assert Study.objects.get().status == "closed"
    researcher.post(reverse("workspace:study_transition", args=[study.slug, "reopen"]))
    assert Study.objects.get().status == "launched"


def test_a_study_whose_target_has_no_outputs_is_refused(researcher, models):
    response = researcher.post(reverse("workspace:study_new"), {**STUDY, "target_model": "empty"})
    assert response.status_code == 200 and not Study.objects.exists()
    assert "has an output from every chosen model" in response.content.decode()


def test_the_rater_preview_records_nothing(researcher, models):
    researcher.post(reverse("workspace:study_new"), STUDY)
    slug = STUDY["slug"]
    for launched in (False, True):
        consent = researcher.get(reverse("workspace:study_preview", args=[slug]))
        assert b"Before you start" in consent.content and b"nothing you do here" in consent.content
        url = researcher.post(reverse("workspace:study_preview", args=[slug]))["Location"]
        steps = 0
        while "/done/" not in url:
            page = researcher.get(url)
            assert page.status_code == 200 and b"Answer A" in page.content
            url = researcher.post(url, {"choice": "A"})["Location"]
            steps += 1
        assert steps == 3
        assert b"C0DE" in researcher.get(url).content
        assert not (Judgment.objects.exists() or Assignment.objects.exists())
        assert not RaterSession.objects.exists()
        if not launched:
            assert not Item.objects.exists()
            researcher.post(reverse("workspace:study_transition", args=[slug, "launch"]))


def test_the_monitor_and_results_export(researcher, models):
    researcher.post(reverse("workspace:study_new"), STUDY)
    researcher.post(reverse("workspace:study_transition", args=[STUDY["slug"], "launch"]))
    monitor = researcher.get(reverse("workspace:study_monitor", args=[STUDY["slug"]])).json()
    assert monitor["items"] == 3 and monitor["judgments_needed"] == 6
    assert (monitor["judgments_done"], monitor["active_raters"], monitor["seconds_left"]) == (
        0, 0, None,
    )  # fmt: skip
    export = researcher.get(reverse("workspace:study_results", args=[STUDY["slug"]]))
    assert "attachment" in export["Content-Disposition"]
    assert json.loads(export.content)["target_model"] == "lima"


def test_the_admin_launches_and_closes_studies(client, models):
    from django.contrib.auth import get_user_model

    from evalhub.studies.services import study_create

    admin_user = get_user_model().objects.create_superuser("root", password="root-pass-1")
    client.force_login(admin_user)
    study = study_create(team=lab_team(),
        slug="s1", name="S1", prompt_set=models[0].outputs.first().prompt.prompt_set,
        target_model=models[0], baselines=[models[1]], attention_check_rate=0.0,
    )  # fmt: skip
    url = reverse("admin:studies_study_changelist")
    client.post(url, {"action": "study_launched", "_selected_action": [study.pk]})
    study.refresh_from_db()
    assert study.status == "launched" and study.config["prompts_left_out"] == ["q3"]
    client.post(url, {"action": "study_closed", "_selected_action": [study.pk]})
    assert Study.objects.get().status == "closed"
