import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from evalhub.prompts.models import Prompt, PromptSet
from tests.factories import lab_team

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def lab():
    return lab_team()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n")
    return path


def test_it_imports_lima_rows_keeping_multi_turn_context(tmp_path):
    path = write_jsonl(
        tmp_path / "lima.jsonl",
        [
            {"conversations": ["How do I boil an egg?"], "source": "reddit"},
            {
                "conversations": ["Plan a trip.", "Where to?", "Lisbon, 3 days."],
                "source": "multi_turn",
            },
            {
                "conversations": ["Explain tides.", "The moon pulls the sea."],
                "source": "stackexchange",
            },
        ],
    )
    call_command("import_prompts", str(path), "--set", "lima-test", "--team", "lab")
    prompts = list(Prompt.objects.filter(prompt_set__slug="lima-test").order_by("position"))
    assert [p.text for p in prompts] == [
        "How do I boil an egg?",
        "Lisbon, 3 days.",
        "Explain tides.",
    ]
    assert prompts[1].context == [
        {"role": "user", "content": "Plan a trip."},
        {"role": "assistant", "content": "Where to?"},
    ]
    assert prompts[1].is_multi_turn and not prompts[0].is_multi_turn
    assert prompts[2].reference == "The moon pulls the sea."
    assert prompts[0].source == "reddit" and prompts[0].external_id == "L1"


def test_it_imports_plain_rows(tmp_path):
    path = write_jsonl(
        tmp_path / "plain.jsonl",
        [{"id": "a1", "text": "Write a haiku.", "category": "writing"},
         {"id": 2, "text": "Sort a list in Python.", "category": "coding"}],
    )  # fmt: skip
    call_command("import_prompts", str(path), "--set", "plain", "--team", "lab")
    assert dict(Prompt.objects.values_list("external_id", "category")) == {
        "a1": "writing",
        "2": "coding",
    }


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ([{"id": "a", "text": "ok"}, '{"id": "b", "text": '], "line 2: not valid JSON"),
        ([{"id": "a", "text": "ok"}, {"id": "a", "text": "again"}], "line 2: id: duplicate id 'a' (first on line 1)"),
        ([{"id": "a", "text": "ok"}, {"id": "b", "text": ""}], "line 2: text: must be a non-empty string"),
        ([{"id": "a", "text": "ok"}, {"text": "no id"}], "line 2: id: is missing"),
        ([{"conversations": []}], "line 1: conversations: must be a non-empty list"),
    ],
)  # fmt: skip
def test_it_names_the_bad_line_and_writes_nothing(tmp_path, rows, expected):
    path = write_jsonl(tmp_path / "bad.jsonl", rows)
    with pytest.raises(CommandError) as err:
        call_command("import_prompts", str(path), "--set", "bad", "--team", "lab")
    assert expected in str(err.value)
    assert str(path) in str(err.value)
    assert not PromptSet.objects.filter(slug="bad").exists()
    assert Prompt.objects.count() == 0


def test_it_rejects_an_empty_file(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("\n\n")
    with pytest.raises(CommandError, match="the input is empty"):
        call_command("import_prompts", str(path), "--set", "empty", "--team", "lab")
    assert PromptSet.objects.count() == 0


def test_it_rejects_an_id_already_in_the_set(tmp_path):
    first = write_jsonl(tmp_path / "one.jsonl", [{"id": "a", "text": "first"}])
    call_command("import_prompts", str(first), "--set", "s", "--team", "lab")
    again = write_jsonl(
        tmp_path / "two.jsonl", [{"id": "b", "text": "new"}, {"id": "a", "text": "x"}]
    )
    with pytest.raises(CommandError, match="line 2: id: id 'a' already exists"):
        call_command("import_prompts", str(again), "--set", "s", "--team", "lab")
    assert list(Prompt.objects.values_list("external_id", flat=True)) == ["a"]
