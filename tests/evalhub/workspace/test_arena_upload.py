"""Chatbot Arena battles through the workspace upload: preview, then the import job."""

from __future__ import annotations

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evalhub.jobs.models import Job
from evalhub.outputs.services import outputs_import_job
from evalhub.studies.models import Judgment, Study
from tests.evalhub.api.test_arena import conversation_row, preference_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(client, alice, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(alice)
    return client


def _upload(client, rows: list[dict]):
    content = "\n".join(json.dumps(r) for r in rows)
    data = {"kind": "arena", "prompt_set": "arena-sample",
            "file": SimpleUploadedFile("battles.jsonl", content.encode())}  # fmt: skip
    return client.post(reverse("workspace:upload"), data)


def test_battles_are_previewed_then_imported_by_a_job(researcher):
    rows = [conversation_row(i) for i in range(5)] + [preference_row(i) for i in range(3)]
    response = _upload(researcher, rows)
    preview = response.context["preview"]
    assert preview["problems"] == [] and preview["rows"] == 8
    assert preview["format"] == "arena_human_preference, chatbot_arena_conversations"
    assert preview["models"]["gpt-4"] == 3  # battles 0, 2 and 3
    assert not Study.objects.exists()  # the preview writes nothing
    page = response.content.decode()
    assert "Chatbot Arena battles into arena-arena-sample" in page
    token = re.search(r"/uploads/([0-9a-f]{32})/import/", page).group(1)
    researcher.post(reverse("workspace:upload_import", args=[token]))
    outcome = outputs_import_job(Job.objects.get())
    assert outcome == {"study": "arena-arena-sample", "created": 8, "unchanged": 0}
    assert Judgment.objects.filter(imported_from="battles.jsonl").count() == 8


def test_a_bad_battle_shows_its_line_and_field_and_writes_nothing(researcher):
    rows = [conversation_row(0), {**conversation_row(1), "winner": "nobody"}]
    response = _upload(researcher, rows)
    problems = response.context["preview"]["problems"]
    assert [(p["row"], p["field"]) for p in problems] == [(2, "winner")]
    assert "upload-confirm" not in response.content.decode()
    assert not Study.objects.exists()
