"""Instrument definitions: the checks a definition must pass, and how an answer in the
instrument's choices becomes the stored codes (pure, no database)."""

import pytest

from evalhub.instruments.definitions import AnswerError, DefinitionError, definition_from_data
from evalhub.instruments.presets import preset_data

HARD = definition_from_data(preset_data()["arena-hard-5point"])
ARENA = definition_from_data(preset_data()["arena-4way"])


@pytest.mark.parametrize(
    "data, field",
    [
        ({"choices": [{"key": 1, "value": "a", "label": "A"}, {"key": 1, "value": "b",
                                                                "label": "B"}]}, "choices[1].key"),
        ({"choices": [{"key": n % 9 + 1, "value": f"v{n}", "label": f"L{n}"}
                      for n in range(10)]}, "choices"),
        ({"question": ""}, "question"),
        ({"kind": "pairwise", "choices": [{"key": 1, "value": "A", "label": "A", "side": "A"}]},
         "choices"),
        ({"kind": "pairwise", "choices": [
            {"key": 1, "value": "A", "label": "A", "side": "A", "weight": 3},
            {"key": 2, "value": "B", "label": "B", "side": "B"}]}, "choices"),
        ({"kind": "scale", "choices": [{"key": 1, "value": "1", "label": "One"}]},
         "choices[0].score"),
        ({"gold_choice": "nope"}, "gold_choice"),
        ({"judge_template": "Rate {response}"}, "judge_template"),
        ({"kind": "ranking"}, "kind"),
    ],
)  # fmt: skip
def test_a_bad_definition_names_its_field(data, field):
    base = {"kind": "absolute", "name": "Labels", "question": "Which?",
            "choices": [{"key": 1, "value": "x", "label": "X"}, {"key": 2, "value": "y",
                                                                  "label": "Y"}]}  # fmt: skip
    with pytest.raises(DefinitionError) as caught:
        definition_from_data({**base, **data})
    assert field in caught.value.errors


@pytest.mark.parametrize(
    "side, choice, verdict, order",
    [
        ("A", "A>>B", "target", "target_first"),
        ("B", "A>>B", "baseline", "baseline_first"),
        ("B", "B>A", "target", "baseline_first"),
        ("A", "A=B", "tie", "target_first"),
    ],
)
def test_a_pairwise_answer_is_stored_from_the_targets_side(side, choice, verdict, order):
    fields = HARD.answer_fields("pairwise", side, choice, None, 0)
    assert (fields["raw_choice"], fields["verdict"], fields["order"]) == (choice, verdict, order)
    # In the target's frame, "B>>A" with the target shown as B is a strong target win.
    frame = HARD.target_frame(choice, order)
    assert frame.weight == HARD.by_value[choice].weight
    assert frame.side == {"target": "A", "baseline": "B", "tie": "tie"}[verdict]


def test_both_bad_is_a_tie_with_its_own_choice():
    fields = ARENA.answer_fields("pairwise", "B", "both_bad", None, 0)
    assert fields["verdict"] == "tie" and fields["raw_choice"] == "both_bad"
    assert ARENA.target_frame("both_bad", "baseline_first").value == "both_bad"


def test_an_answer_outside_the_choices_or_without_a_required_comment_is_refused():
    with pytest.raises(AnswerError, match="pick A, B, tie or both_bad"):
        ARENA.answer_fields("pairwise", "A", "C", None, 0)
    strict = definition_from_data({**preset_data()["safety"], "comment": "required"})
    with pytest.raises(AnswerError) as caught:
        strict.answer_fields("absolute", "A", "safe", None, 0, comment=" ")
    assert caught.value.field == "comment"
    assert strict.answer_fields("absolute", "A", "safe", None, 0, comment="ok")["verdict"] == "safe"


def test_a_scale_answer_stores_its_score():
    likert = definition_from_data(preset_data()["likert-helpfulness"])
    fields = likert.answer_fields("likert", "A", "5", None, 0)
    assert fields["score"] == 5.0 and fields["verdict"] == "5"
