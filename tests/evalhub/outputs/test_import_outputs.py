import json

import pytest
from django.core.management import CommandError, call_command

from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.services import outputs_import
from tests.factories import PromptFactory, PromptSetFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def prompt_set():
    prompt_set = PromptSetFactory(slug="eval")
    PromptFactory(prompt_set=prompt_set, external_id="q1", text="What is 2+2?")
    PromptFactory(prompt_set=prompt_set, external_id="q2", text="Name a prime.")
    return prompt_set


def alpaca_file(tmp_path, rows):
    path = tmp_path / "model_outputs.json"
    path.write_text(json.dumps(rows, indent=1))
    return path


def test_it_imports_alpacaeval_outputs_matched_by_instruction(tmp_path, prompt_set):
    path = alpaca_file(
        tmp_path,
        [
            {"instruction": "What is 2+2?", "output": "**4**", "generator": "My Model 7B"},
            {"instruction": "Name a prime.", "output": "7", "generator": "My Model 7B"},
        ],
    )
    call_command("import_outputs", str(path), "--set", "eval", "--team", "lab")
    model = ModelEntry.objects.get(slug="my-model-7b")
    assert model.kind == ModelEntry.Kind.EXTERNAL
    out = Output.objects.get(model=model, prompt__external_id="q1")
    assert out.text == "**4**"


def test_it_imports_our_jsonl_with_samples_and_provenance(tmp_path, prompt_set):
    path = tmp_path / "outs.jsonl"
    rows = [
        {"external_id": "q1", "output": "four", "model": "m", "sample_index": 0, "provenance": {"seed": 1}},
        {"external_id": "q1", "output": "4", "model": "m", "sample_index": 1},
    ]  # fmt: skip
    path.write_text("\n".join(json.dumps(r) for r in rows))
    call_command("import_outputs", str(path), "--set", "eval", "--team", "lab")
    assert list(Output.objects.order_by("sample_index").values_list("text", "provenance")) == [
        ("four", {"seed": 1}),
        ("4", {}),
    ]


def test_a_repeated_identical_import_changes_nothing(prompt_set):
    rows = [(1, {"external_id": "q1", "output": "4", "model": "m"})]
    first = outputs_import(prompt_set=prompt_set, rows=rows)
    again = outputs_import(prompt_set=prompt_set, rows=rows)
    assert (first.created, first.unchanged) == (1, 0)
    assert (again.created, again.unchanged, again.changed_nothing) == (0, 1, True)
    assert Output.objects.count() == 1


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"instruction": "What is 2+2?", "output": "4", "generator": "m"},
          {"instruction": "Unknown?", "output": "x", "generator": "m"}],
         "line 2: instruction: no prompt has this exact text"),
        ([{"instruction": "What is 2+2?", "output": "4", "generator": "m"},
          {"instruction": "What is 2+2?", "output": "5", "generator": "m"}],
         "line 2: prompt: duplicate of line 1"),
        ([{"instruction": "What is 2+2?", "generator": "m"}], "line 1: output: is missing"),
    ],
)  # fmt: skip
def test_it_names_the_bad_row_and_writes_nothing(tmp_path, prompt_set, rows, expected):
    path = alpaca_file(tmp_path, rows)
    with pytest.raises(CommandError) as err:
        call_command("import_outputs", str(path), "--set", "eval", "--team", "lab")
    assert expected in str(err.value)
    assert Output.objects.count() == 0
    assert not ModelEntry.objects.exists()


def test_it_names_a_broken_jsonl_line(tmp_path, prompt_set):
    path = tmp_path / "outs.jsonl"
    path.write_text('{"external_id": "q1", "output": "4", "model": "m"}\n{"external_id": \n')
    with pytest.raises(CommandError, match="line 2: not valid JSON"):
        call_command("import_outputs", str(path), "--set", "eval", "--team", "lab")
    assert Output.objects.count() == 0


def test_it_rejects_an_empty_file(tmp_path, prompt_set):
    path = alpaca_file(tmp_path, [])
    with pytest.raises(CommandError, match="the input is empty"):
        call_command("import_outputs", str(path), "--set", "eval", "--team", "lab")


def test_it_refuses_to_overwrite_a_different_existing_output(prompt_set):
    outputs_import(
        prompt_set=prompt_set, rows=[(1, {"external_id": "q1", "output": "4", "model": "m"})]
    )
    from evalhub.importing import InputError

    with pytest.raises(InputError, match="line 1: output: this prompt already has a different"):
        outputs_import(
            prompt_set=prompt_set,
            rows=[(1, {"external_id": "q1", "output": "five", "model": "m"})],
        )
    assert Output.objects.get().text == "4"
