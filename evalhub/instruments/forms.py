"""The workspace's instrument form: a definition typed in, one choice per line."""

from __future__ import annotations

from typing import Any

from django import forms

from evalhub.instruments.models import Instrument

CHOICES_HELP = (
    "One choice per line, its key is the line number: value | label | definition | "
    "mapping | weight. Pairwise: mapping is the side it prefers as shown (A, B or tie) and "
    "weight how many plain preferences it counts for (default 1). Scale: mapping is the "
    "score. Absolute: leave mapping empty (the value is the stored label)."
)


class InstrumentForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Instrument.Kind.choices)
    levels = forms.ChoiceField(choices=Instrument.Levels.choices)
    intro = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    question = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    choices = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), help_text=CHOICES_HELP)
    gold_choice = forms.CharField(max_length=20, required=False,
                                  help_text="Absolute and scale: the value an attention "
                                  "check's broken answer earns (empty: no checks).")  # fmt: skip
    comment = forms.ChoiceField(choices=Instrument.Comment.choices)
    judge_template = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False,
        help_text="Optional; slots {prompt} with {response_a} and {response_b} (pairwise) or "
        "{response}. Empty: the judge is asked the rater's question and choices.",
    )  # fmt: skip

    def definition_data(self) -> dict[str, Any]:
        """The cleaned form as definition data (evalhub.instruments.definitions)."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("slug", "choices")}
        data["choices"] = [
            _choice_line(n, line, data["kind"])
            for n, line in enumerate(
                (x for x in self.cleaned_data["choices"].splitlines() if x.strip()), start=1
            )
        ]
        return data


def _choice_line(key: int, line: str, kind: str) -> dict[str, Any]:
    parts = [p.strip() for p in line.split("|")] + [""] * 5
    value, label, definition, mapping, weight = parts[:5]
    choice: dict[str, Any] = {"key": key, "value": value, "label": label,
                              "definition": definition}  # fmt: skip
    if kind == Instrument.Kind.PAIRWISE:
        choice["side"] = mapping
        choice["weight"] = _number(weight) if weight else 1
    elif kind == Instrument.Kind.SCALE:
        choice["score"] = _number(mapping)
    return choice


def _number(text: str) -> float | str:
    try:
        return float(text)
    except ValueError:
        return text  # refused by the definition check, naming the field
