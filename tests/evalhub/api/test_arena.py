"""Chatbot Arena battles in, over the API: both formats, provenance, bad rows refused."""

from __future__ import annotations

import json

import pytest

from evalhub.dashboards.selectors.style_control import (
    STYLE_KIND,
    output_styles,
    study_style_leaderboard,
    style_inputs,
)
from evalhub.fits.services import shared_fit_refresh
from evalhub.outputs.models import Output
from evalhub.studies.arena_import import arena_judge_hash
from evalhub.studies.models import Item, Judgment, Rater, Study

pytestmark = pytest.mark.django_db

URL = "/api/v1/arena-battles/?name=Arena%20sample&imported_from=clean_battle.json"


def conversation_row(i: int, winner: str = "model_a", **extra) -> dict:
    models = ["gpt-4", "claude-1", "vicuna-13b"]
    a, b = models[i % 3], models[(i + 1) % 3]
    return {
        "question_id": f"q{i}",
        "model_a": a,
        "model_b": b,
        "winner": winner,
        "judge": f"arena_user_{i % 4}",
        "conversation_a": [{"role": "user", "content": f"Question {i}?"},
                           {"role": "assistant", "content": "## Plan\n- **one**\n- two"}],
        "conversation_b": [{"role": "user", "content": f"Question {i}?"},
                           {"role": "assistant", "content": "Short."}],
        "turn": 1, "anony": True, "language": "English", "tstamp": 1682351591.1 + i,
        **extra,
    }  # fmt: skip


def preference_row(i: int) -> dict:
    return {
        "id": 30192 + i, "model_a": "gpt-4-1106-preview", "model_b": "gpt-4-0613",
        "prompt": json.dumps([f"Prompt {i}", "and a follow-up"]),
        "response_a": json.dumps(["First answer", "Second answer"]),
        "response_b": json.dumps(["Other answer", None]),
        "winner_model_a": int(i % 3 == 0), "winner_model_b": int(i % 3 == 1),
        "winner_tie": int(i % 3 == 2),
    }  # fmt: skip


def post(api, rows, url=URL):
    body = "\n".join(json.dumps(r) for r in rows)
    return api.post(url, body, content_type="application/x-ndjson")


def test_it_imports_conversation_battles_with_provenance(api):
    metadata = {"sum_assistant_a_tokens": 120, "header_count_a": {"h1": 1, "h2": 2},
                "list_count_a": {"ordered": 0, "unordered": 3}, "bold_count_a": {"**": 1, "__": 0},
                "sum_assistant_b_tokens": 8, "header_count_b": {"h1": 0}, "list_count_b": {},
                "bold_count_b": {}}  # fmt: skip
    rows = [conversation_row(i, ["model_a", "model_b", "tie", "tie (bothbad)"][i % 4])
            for i in range(11)] + [conversation_row(11, conv_metadata=metadata)]  # fmt: skip
    response = post(api, rows)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["created"], body["unchanged"], body["models"], body["raters"]) == (12, 0, 3, 4)
    study = Study.objects.get(slug=body["study"])
    assert study.kind == "pairwise" and study.items.count() == 12
    verdicts = list(Judgment.objects.filter(item__study=study).order_by("item__prompt__position")
                    .values_list("verdict", "raw_choice", "judge_group", "imported_from"))  # fmt: skip
    assert verdicts[:4] == [("target", "model_a", "arena", "clean_battle.json"),
                            ("baseline", "model_b", "arena", "clean_battle.json"),
                            ("tie", "tie", "arena", "clean_battle.json"),
                            ("tie", "tie (bothbad)", "arena", "clean_battle.json")]  # fmt: skip
    # judges are raters known only by a keyed hash
    assert Rater.objects.filter(external_id_hash=arena_judge_hash("arena_user_1")).exists()
    assert not Rater.objects.filter(external_id_hash__contains="arena_user").exists()
    item = Item.objects.get(study=study, prompt__external_id="q11")
    given = item.target_output.provenance
    assert given["style"] == {"tokens": 120, "headers": 3, "lists": 3, "bold": 1,
                              "tokenizer": "given (conv_metadata)"}  # fmt: skip
    assert given["arena"]["language"] == "English" and given["imported_from"] == "clean_battle.json"
    assert item.baseline_output.provenance["style"]["tokens"] == 8
    # the same rows again change nothing
    again = post(api, rows)
    assert again.status_code == 200 and again.json()["unchanged"] == 12
    shared_fit_refresh(kind=STYLE_KIND, inputs=style_inputs(study))  # as the worker would
    board = study_style_leaderboard(study)
    assert board["current"] and {m["model"] for m in board["models"]} == {
        "gpt-4", "claude-1", "vicuna-13b"}  # fmt: skip
    assert "given (conv_metadata)" in board["tokenizers"]


def test_it_imports_arena_human_preference_rows(api):
    response = post(api, [preference_row(i) for i in range(6)])
    assert response.status_code == 201, response.json()
    outputs = Output.objects.filter(model__slug="gpt-4-0613").order_by("prompt__position")
    assert outputs[0].turns == ["Other answer", ""]
    assert outputs[0].prompt.text == "Prompt 0"
    verdicts = list(
        Judgment.objects.filter(imported_from="clean_battle.json")
        .order_by("item__prompt__position")
        .values_list("verdict", flat=True)
    )
    assert verdicts == ["target", "baseline", "tie"] * 2
    assert Judgment.objects.filter(rater__isnull=False).count() == 0  # no judge ids given


def test_counts_its_conv_metadata_leaves_out_are_counted_by_evalhub(api):
    # token counts only: FastChat's add_markdown_info.py adds the markdown counts later
    metadata = {"sum_assistant_a_tokens": 50, "sum_assistant_b_tokens": 5, "turns": 1}
    assert post(api, [conversation_row(0, conv_metadata=metadata)]).status_code == 201
    item = Item.objects.get(prompt__external_id="q0")
    given = item.target_output.provenance["style"]
    assert given == {"tokens": 50, "tokenizer": "given (conv_metadata)"}
    styles, tokenizers = output_styles([item.target_output_id, item.baseline_output_id])
    # "## Plan\n- **one**\n- two": one header, two list items, one bold run
    assert styles[item.target_output_id] == (50, 1, 2, 1)
    assert styles[item.baseline_output_id] == (5, 0, 0, 0)
    assert tokenizers == ["given (conv_metadata)"]


@pytest.mark.parametrize(
    ("row", "code", "line_and_field"),
    [
        (conversation_row(1, winner="model_c"), 400, "winner"),
        ({**conversation_row(1), "conversation_b": [{"role": "bot", "content": "x"}]}, 400,
         "conversation_b"),
        ({"something": "else"}, 400, "conversation_a"),
        ({**conversation_row(1), "model_b": "gpt-4", "model_a": "gpt-4"}, 409, "model_b"),
        ({**conversation_row(1), "model_b": "GPT 4", "model_a": "gpt-4"}, 409, "model_b"),
        ({**conversation_row(1), "conversation_a": [{"role": "user", "content": "x"}]}, 409,
         "conversation_a"),
        ({**conversation_row(1), "conv_metadata": {**{k: 1 for k in (
            "sum_assistant_a_tokens", "header_count_a", "list_count_a")}, "bold_count_a": "x"}},
         409, "conv_metadata.bold_count_a"),
        ({**conversation_row(1), "conv_metadata": {"sum_assistant_a_tokens": 9}}, 409,
         "conv_metadata.sum_assistant_b_tokens"),
        ({**preference_row(1), "winner_tie": 1}, 409, "winner_model_a"),
        ({**preference_row(1), "response_a": "not json"}, 409, "response_a"),
        (conversation_row(0), 409, "question_id"),
    ],
)  # fmt: skip
def test_a_bad_row_is_refused_with_its_line_and_field_and_nothing_is_written(
    api, row, code, line_and_field
):
    response = post(api, [conversation_row(0), row])
    assert response.status_code == code, response.json()
    assert {"row": 2, "field": line_and_field} in [
        {"row": p["row"], "field": p["field"]} for p in response.json()["problems"]
    ], response.json()
    assert not Study.objects.filter(slug="arena-arena-sample").exists()
    assert Judgment.objects.count() == 0 and Output.objects.count() == 0


def test_it_needs_a_researcher(rater_api, anon_api):
    assert post(rater_api, [conversation_row(0)]).status_code == 403
    assert post(anon_api, [conversation_row(0)]).status_code == 401
