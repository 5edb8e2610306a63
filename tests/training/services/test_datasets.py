"""Importing LIMA-format JSONL: multi-turn rows, token statistics, and clean refusals."""

import json

import pytest

from evalhub.importing import InputError, parse_rows
from training.models import TrainingDataset
from training.services import dataset_import

pytestmark = pytest.mark.django_db


def jsonl(rows):
    return parse_rows("\n".join(json.dumps(r) for r in rows))


def test_it_imports_single_and_multi_turn_rows_with_token_lengths(tiny_model_dir):
    rows = jsonl([
        {"conversations": ["How do I make coffee?", "Grind fresh beans."], "source": "stackexchange"},
        {"conversations": ["Story?", "word " * 100], "source": "writingprompts"},
        {"conversations": ["Hi", "Hello", "How are you?", "Well."], "source": "multi_turn"},
    ])  # fmt: skip
    dataset = dataset_import(slug="lima", name="LIMA", rows=rows,
                             tokenizer_path=str(tiny_model_dir), max_length=64)  # fmt: skip
    assert dataset.examples.count() == 3
    assert dataset.examples.get(position=2).conversations[3] == "Well."
    stats = {s["source"]: s for s in dataset.token_stats}
    assert set(stats) == {"stackexchange", "writingprompts", "multi_turn", "all"}
    assert stats["writingprompts"]["trimmed"] == 1 and stats["stackexchange"]["trimmed"] == 0
    assert stats["all"]["count"] == 3 and stats["all"]["trimmed"] == 1
    assert stats["multi_turn"]["max_tokens"] > 4  # 4 utterances, 4 EOTs, a BOS at least


def test_a_bad_row_names_its_line_and_field_and_nothing_is_written():
    rows = jsonl([
        {"conversations": ["q", "a"]},
        {"conversations": ["only a prompt"]},
        {"conversations": ["q", ""], "source": 3},
    ])  # fmt: skip
    with pytest.raises(InputError) as caught:
        dataset_import(slug="bad", name="Bad", rows=rows, source_file="lima.jsonl")
    message = str(caught.value)
    assert "line 2: conversations: needs a user and an assistant" in message
    assert "line 3: conversations: utterance 2 must be a non-empty string" in message
    assert "line 3: source: must be a string" in message
    assert message.startswith("lima.jsonl")
    assert not TrainingDataset.objects.exists()


def test_a_taken_slug_is_refused():
    dataset_import(slug="lima", name="LIMA", rows=jsonl([{"conversations": ["q", "a"]}]))
    with pytest.raises(InputError, match="already exists"):
        dataset_import(slug="lima", name="LIMA", rows=jsonl([{"conversations": ["q", "a"]}]))


def test_the_command_imports_a_file(tmp_path, tiny_model_dir):
    from django.core.management import call_command

    path = tmp_path / "lima.jsonl"
    path.write_text(json.dumps({"conversations": ["q", "a"], "source": "wikihow"}) + "\n")
    call_command("import_training_data", str(path), "--slug", "tiny", "--tokenizer",
                 str(tiny_model_dir))  # fmt: skip
    assert TrainingDataset.objects.get(slug="tiny").token_stats[0]["source"] == "wikihow"
