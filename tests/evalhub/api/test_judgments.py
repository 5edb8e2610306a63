"""Judgments out (streamed CSV / JSONL) and in (AlpacaEval annotations and our rows)."""

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

from evalhub.studies.models import Item, Judgment
from evalhub.studies.services import study_launch
from tests.factories import StudyFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(pair_models, eval_set):
    study = StudyFactory(slug="pw", prompt_set=eval_set, target_model=pair_models[0],
                         raters_per_item=1, attention_check_rate=0)  # fmt: skip
    study.baselines.add(pair_models[1])
    return study_launch(study=study)


def _content(response) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()


def test_judgments_export_as_streamed_csv_by_default(api, study):
    item = Item.objects.filter(study=study).first()
    Judgment.objects.create(item=item, judge_group="crowd", verdict="target", raw_choice="A")
    response = api.get("/api/v1/studies/pw/judgments/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="pw-judgments.csv"'
    rows = list(csv.DictReader(io.StringIO(_content(response))))
    assert [(r["study"], r["judge_group"], r["verdict"], r["target_model"]) for r in rows] == [
        ("pw", "crowd", "target", "lima")
    ]


def test_judgments_export_as_jsonl_by_parameter_or_accept(api, study):
    for item in Item.objects.filter(study=study):
        Judgment.objects.create(item=item, judge_group="crowd", verdict="tie")
    by_param = api.get("/api/v1/studies/pw/judgments/?format=jsonl")
    by_accept = api.get("/api/v1/studies/pw/judgments/", HTTP_ACCEPT="application/x-ndjson")
    for response in (by_param, by_accept):
        assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
        lines = [json.loads(line) for line in _content(response).splitlines()]
        assert [r["verdict"] for r in lines] == ["tie", "tie", "tie"]


def test_export_errors_are_json_whatever_format_was_asked(anon_api, api):
    response = anon_api.get("/api/v1/studies/pw/judgments/?format=csv")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert api.get("/api/v1/studies/nope/judgments/?format=jsonl").json()["code"] == "not_found"


ANNOTATIONS = [
    {"instruction": "Question 1?", "output_1": "lima answer q1", "output_2": "davinci answer q1",
     "generator_1": "lima", "generator_2": "davinci", "preference": 1},
    {"instruction": "Question 2?", "output_1": "davinci answer q2", "output_2": "lima answer q2",
     "generator_1": "davinci", "generator_2": "lima", "preference": 1.0},
    {"instruction": "Question 3?", "output_1": "lima answer q3", "output_2": "davinci answer q3",
     "generator_1": "lima", "generator_2": "davinci", "preference": 1.5},
]  # fmt: skip
IMPORT = "/api/v1/studies/pw/judgments/import/?judge_group=llm:gpt4&imported_from=annotations.json"


def test_alpacaeval_annotations_are_imported_under_the_named_group(api, study):
    response = api.post(IMPORT, json.dumps(ANNOTATIONS), content_type="application/json")
    assert response.status_code == 201, response.json()
    assert response.json()["created"] == 3
    got = Judgment.objects.order_by("item__prompt__position").values_list(
        "judge_group", "imported_from", "order", "verdict", "raw_choice"
    )
    assert list(got) == [
        ("llm:gpt4", "annotations.json", "target_first", "target", "1"),
        ("llm:gpt4", "annotations.json", "baseline_first", "baseline", "1.0"),
        ("llm:gpt4", "annotations.json", "target_first", "tie", "1.5"),
    ]
    results = api.get("/api/v1/studies/pw/results/").json()["pairwise"]
    assert [(r["judge_group"], r["wins"], r["ties"], r["losses"]) for r in results] == [
        ("llm:gpt4", 1, 1, 1)
    ]


def test_the_same_import_again_changes_nothing_and_says_so(api, study):
    api.post(IMPORT, json.dumps(ANNOTATIONS), content_type="application/json")
    again = api.post(IMPORT, json.dumps(ANNOTATIONS), content_type="application/json")
    assert again.status_code == 200
    assert again.json()["changed_nothing"] is True and again.json()["unchanged"] == 3
    assert Judgment.objects.count() == 3
    other = api.post(IMPORT, json.dumps(ANNOTATIONS[:1]), content_type="application/json")
    assert other.status_code == 409
    assert other.json()["problems"][0]["field"] == "imported_from"


def test_a_bad_annotation_names_its_row_and_nothing_is_written(api, study):
    # A row outside its shape is a 400; rows that do not fit the study are a 409.
    rows = [*ANNOTATIONS[:1],
            {**ANNOTATIONS[1], "generator_1": "gpt-3"},
            {**ANNOTATIONS[2], "preference": 3},
            {**ANNOTATIONS[2], "instruction": "Question 9?"}]  # fmt: skip
    response = api.post(IMPORT, json.dumps(rows), content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_rows"
    assert [(p["row"], p["field"]) for p in response.json()["problems"]] == [(3, "preference")]
    del rows[2]
    response = api.post(IMPORT, json.dumps(rows), content_type="application/json")
    assert response.status_code == 409 and response.json()["code"] == "conflicting_rows"
    assert [(p["row"], p["field"]) for p in response.json()["problems"]] == [
        (2, "baseline"), (3, "instruction")
    ]  # fmt: skip
    assert not Judgment.objects.exists()


def test_our_jsonl_rows_name_items_or_prompts(api, study):
    item = Item.objects.filter(study=study).order_by("id").first()
    body = "\n".join(
        json.dumps(r)
        for r in [
            {"item_id": item.pk, "verdict": "target", "order": "baseline_first", "comment": "ok"},
            {"external_id": "q2", "baseline": "davinci", "verdict": "tie"},
        ]
    )
    url = "/api/v1/studies/pw/judgments/import/?judge_group=crowd&imported_from=old-study"
    response = api.post(url, body, content_type="application/x-ndjson")
    assert response.status_code == 201, response.json()
    assert list(Judgment.objects.order_by("id").values_list("verdict", "order", "comment")) == [
        ("target", "baseline_first", "ok"),
        ("tie", "single", ""),
    ]


def test_judge_group_and_imported_from_are_required(api, study):
    response = api.post(
        "/api/v1/studies/pw/judgments/import/", "[]", content_type="application/json"
    )
    assert response.status_code == 400
    assert sorted(p["field"] for p in response.json()["problems"]) == [
        "imported_from",
        "judge_group",
    ]


def test_a_draft_study_has_no_items_to_import_onto(api, pair_models, eval_set):
    StudyFactory(slug="draft", prompt_set=eval_set, target_model=pair_models[0])
    url = "/api/v1/studies/draft/judgments/import/?judge_group=crowd&imported_from=x"
    response = api.post(url, json.dumps(ANNOTATIONS), content_type="application/json")
    assert response.status_code == 409
    assert (
        response.json()["problems"][0]["message"] == "the study has no items yet; launch it first"
    )
