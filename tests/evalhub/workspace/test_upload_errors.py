"""An upload that cannot be read shows only its error (line, field, message), headed
"Line", with no row or new-output summary; outputs can be uploaded from a model's page."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(client, alice, settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    client.force_login(alice)
    return client


def upload(client, name: str, content: str, **fields):
    data = {"kind": "outputs", "prompt_set": "qs", "model": "m", **fields,
            "file": SimpleUploadedFile(name, content.encode())}  # fmt: skip
    return client.post("/uploads/", data)


def test_an_unreadable_file_shows_only_the_error_by_line(researcher):
    PromptSetFactory(slug="qs")
    page = upload(researcher, "outs.jsonl", '{"external_id": "q0", "output": "a"}\n{oops\n')
    html = page.content.decode()
    assert "The file cannot be read" in html
    assert re.search(r'<th class="num">Line</th>', html)
    assert re.search(r'<td class="num">2</td><td>[^<]*</td><td>[^<]*JSON', html)
    assert "New outputs" not in html and 'id="preview-rows"' not in html
    assert "upload-confirm" not in html


def test_a_readable_file_with_problems_has_no_new_output_count(researcher):
    prompt_set = PromptSetFactory(slug="qs")
    PromptFactory(prompt_set=prompt_set, external_id="q0")
    html = upload(
        researcher, "outs.jsonl", '{"external_id": "nope", "output": "a"}\n'
    ).content.decode()
    assert 'id="problems"' in html and "New outputs" not in html
    assert '<th class="num">Line</th>' in html
    array = upload(
        researcher, "outs.json", '[{"external_id": "nope", "output": "a"}]'
    ).content.decode()
    assert '<th class="num">Element</th>' in array


def test_outputs_upload_from_a_models_page(researcher):
    ModelEntryFactory(slug="m", kind="local")
    page = researcher.get("/models/m/").content.decode()
    link = re.search(r'href="([^"]+)" id="upload-outputs"', page).group(1).replace("&amp;", "&")
    assert link == "/uploads/?kind=outputs&model=m"
    form = researcher.get(link).content.decode()
    assert re.search(r'name="model"[^>]*value="m"', form)
