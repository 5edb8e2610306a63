"""The change-and-remove pages through Django's test client."""

from __future__ import annotations

import pytest

from evalhub.audit.selectors import object_history
from evalhub.outputs.models import ModelEntry
from evalhub.studies.models import Study
from evalhub.studies.services import study_create, study_launch
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def study(db):
    prompt_set = PromptSetFactory(slug="qs")
    target, baseline = ModelEntryFactory(slug="tgt"), ModelEntryFactory(slug="base")
    for i in range(3):
        prompt = PromptFactory(prompt_set=prompt_set, external_id=f"q{i}")
        OutputFactory(prompt=prompt, model=target)
        OutputFactory(prompt=prompt, model=baseline)
    return study_create(team=lab_team(), slug="s1", name="S1", prompt_set=prompt_set, target_model=target,
                        baselines=[baseline])  # fmt: skip


def form_data(**changes):
    data = {"slug": "ignored", "name": "S1", "kind": "pairwise", "instrument": "",
            "prompt_set": "qs", "target_model": "tgt", "baselines": ["base"],
            "raters_per_item": 3, "attention_check_rate": 0.1, "session_quota": 20,
            "reservation_minutes": 15, "completion_code": "", "screenout_code": ""}  # fmt: skip
    return {**data, **changes}


def test_a_draft_is_edited_and_deleted_from_its_pages(researcher, study):
    page = researcher.get("/studies/s1/")
    assert b'id="edit-link"' in page.content and b'id="delete-link"' in page.content
    assert researcher.get("/studies/s1/edit/").status_code == 200
    response = researcher.post(
        "/studies/s1/edit/", form_data(name="Better name", raters_per_item=4)
    )
    assert response.status_code == 302
    study.refresh_from_db()
    assert study.name == "Better name" and study.raters_per_item == 4 and study.slug == "s1"
    assert researcher.post("/studies/s1/delete/").url == "/studies/"
    assert not Study.objects.filter(slug="s1").exists()
    listed = researcher.get("/history/?type=studies.study").content.decode()
    assert "Deleted" in listed and "Edited" in listed and "&quot;Better name&quot;" in listed


def test_a_launched_study_sends_edits_to_its_running_settings_and_records_them(
    researcher, study, alice
):
    study_launch(study=study)
    assert researcher.get("/studies/s1/edit/").url == "/studies/s1/settings/"
    response = researcher.post("/studies/s1/settings/", {
        "completion_code": "NEWCODE", "screenout_code": "", "quality_rules": '{"min_agreement": 0.5}'})  # fmt: skip
    assert response.status_code == 302
    page = researcher.get("/studies/s1/settings/").content.decode()
    assert "alice" in page and "NEWCODE" in page and "min_agreement" in page
    assert "NEWCODE" in researcher.get("/studies/s1/").content.decode()  # its history too
    bad = researcher.post("/studies/s1/settings/", {"quality_rules": '{"nope": 1'})
    assert bad.status_code == 200 and "not JSON: line 1" in bad.content.decode()
    unknown = researcher.post("/studies/s1/settings/", {"quality_rules": '{"min_agreemnt": 1}'})
    assert "min_agreemnt: unknown rule" in unknown.content.decode()
    edits = [e for e in object_history(study, team=study.team) if e.action == "settings.change"]
    assert len(edits) == 1
    refused = researcher.post("/studies/s1/delete/")
    assert refused.status_code == 409 and "s1 is launched" in refused.content.decode()


def test_deleting_a_model_a_launched_study_uses_is_refused_with_the_reason(researcher, study):
    study_launch(study=study)
    response = researcher.post("/models/base/delete/")
    assert response.status_code == 409
    assert "launched studies use it (s1)" in response.content.decode()
    assert ModelEntry.objects.filter(slug="base").exists()


def test_a_model_no_study_uses_is_renamed_and_deleted_and_both_are_in_its_history(
    researcher, study
):
    spare = ModelEntryFactory(slug="spare")
    response = researcher.post("/models/spare/edit/", {"slug": "spare-2", "name": "Spare"})
    assert response.url == "/models/spare-2/"
    page = researcher.get("/models/spare-2/").content.decode()
    history = page[page.index('id="history"') :]
    assert "alice" in history and "Renamed" in history and "&quot;spare-2&quot;" in history
    assert researcher.post("/models/spare-2/delete/").url == "/models/"
    assert not ModelEntry.objects.filter(slug__startswith="spare").exists()
    # The deleted model's history stays on the history page, each row a link to it.
    own = researcher.get(f"/history/?type=outputs.modelentry&id={spare.pk}").content.decode()
    records = own[own.index("<tbody>") : own.index("</tbody>")].split("<tr>")[1:]
    assert len(records) == 2 and "Deleted" in records[0] and "Renamed" in records[1]
    assert all(f"/history/?type=outputs.modelentry&amp;id={spare.pk}" in r for r in records)
    everything = researcher.get("/history/").content.decode()
    assert "spare-2" in everything and "2 rows" in everything


def test_replacing_an_upload_clears_the_outputs_and_opens_the_upload_form(researcher, study):
    response = researcher.post("/models/base/outputs/qs/replace/")
    assert response.url == "/uploads/?kind=outputs&prompt_set=qs&model=base"
    assert not ModelEntry.objects.get(slug="base").outputs.exists()
    page = researcher.get("/models/base/").content.decode()
    assert "Outputs cleared for a replacement upload" in page and "alice" in page
