"""Forms that change or remove what researchers made (evalhub.studies.editing writes)."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from evalhub.studies.models import Study
from evalhub.workspace.forms import StudyForm


class StudyDraftForm(StudyForm):
    """The new-study form over an existing draft; its slug stays (links point at it)."""

    def __init__(self, *args: Any, study: Study, **kwargs: Any) -> None:
        initial = {
            "slug": study.slug, "name": study.name, "kind": study.kind,
            "instrument": study.instrument.slug if study.instrument else "",
            "prompt_set": study.prompt_set.slug, "target_model": study.target_model.slug,
            "baselines": [b.slug for b in study.baselines.all()],
            "raters_per_item": study.raters_per_item,
            "attention_check_rate": study.attention_check_rate,
            "session_quota": study.session_quota,
            "reservation_minutes": max(1, study.reservation_seconds // 60),
            "completion_code": study.completion_code, "screenout_code": study.screenout_code,
        }  # fmt: skip
        super().__init__(*args, initial=initial, team=study.team, **kwargs)
        self.fields["slug"].disabled = True
        self.fields["slug"].help_text = "Fixed: the study's links use it."

    def edit_fields(self) -> dict[str, Any]:
        """Keyword arguments of editing.study_edit_draft."""
        fields = self.service_fields()
        fields.pop("slug")
        if fields["instrument"] is None:  # blank keeps the kind's LIMA form
            fields.pop("instrument")
        return fields


class RunningSettingsForm(forms.Form):
    """What may change while a study runs: the Prolific codes and the quality rules."""

    completion_code = forms.CharField(
        max_length=100, required=False, label="Prolific completion code"
    )
    screenout_code = forms.CharField(
        max_length=100, required=False, label="Prolific screen-out code"
    )
    quality_rules = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 6}),
        label="Quality rules (JSON)",
        help_text='e.g. {"min_agreement": 0.5, "max_too_fast_share": 0.3}; missing keys take '
        "their defaults.",
    )  # fmt: skip

    def clean_quality_rules(self) -> dict[str, Any]:
        text = self.cleaned_data["quality_rules"].strip() or "{}"
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(
                f"not JSON: line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from exc


class RenameForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200)
