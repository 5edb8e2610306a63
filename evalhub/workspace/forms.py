"""Forms of the researcher workspace. They validate input; services do the writes."""

from __future__ import annotations

from typing import Any

from django import forms

from evalhub.instruments.definitions import STUDY_KINDS
from evalhub.instruments.selectors import instrument_choices_for_form, instrument_latest
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.studies.models import Judge, Study
from evalhub.studies.selectors import team_judges
from evalhub.teams.models import Team

UPLOAD_KINDS = [
    ("prompts", "A prompt set"),
    ("outputs", "Model outputs"),
    ("arena", "Chatbot Arena battles"),
]


class UploadForm(forms.Form):
    """A prompt-set or model-output file; the preview decides its format."""

    kind = forms.ChoiceField(choices=UPLOAD_KINDS, widget=forms.RadioSelect, initial="prompts")
    file = forms.FileField(help_text="JSONL, JSON or CSV; drop it here or pick it.")
    prompt_set = forms.SlugField(
        max_length=100,
        help_text="For a prompt set: its new slug. For outputs: the set they answer. "
        "For Arena battles: the import's name (its study is arena-<name>).",
    )
    name = forms.CharField(max_length=200, required=False, help_text="Prompt set name (new sets).")
    model = forms.SlugField(
        max_length=100,
        required=False,
        help_text="For outputs without a generator field: the model they come from.",
    )


class StudyForm(forms.Form):
    """A new study; the fields the API takes, with the API's bounds."""

    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200)
    kind = forms.ChoiceField(choices=Study.Kind.choices, initial=Study.Kind.PAIRWISE)
    instrument = forms.ChoiceField(
        required=False,
        help_text="What raters and the LLM judge are asked; blank: the kind's LIMA form.",
    )
    # The querysets are the team's (set in __init__).
    prompt_set = forms.ModelChoiceField(queryset=PromptSet.objects.none(), to_field_name="slug")
    target_model = forms.ModelChoiceField(
        queryset=ModelEntry.objects.none(), to_field_name="slug", label="Target model"
    )
    baselines = forms.ModelMultipleChoiceField(
        queryset=ModelEntry.objects.none(),
        to_field_name="slug",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Pairwise studies compare the target with each baseline.",
    )
    raters_per_item = forms.IntegerField(min_value=1, max_value=100, initial=3)
    attention_check_rate = forms.FloatField(min_value=0.0, max_value=0.5, initial=0.1)
    session_quota = forms.IntegerField(
        min_value=1, max_value=10_000, initial=20, help_text="Items per rater session."
    )
    reservation_minutes = forms.IntegerField(
        min_value=1,
        max_value=1440,
        initial=15,
        help_text="How long an item stays reserved for a rater.",
    )
    completion_code = forms.CharField(
        max_length=100, required=False, label="Prolific completion code"
    )
    screenout_code = forms.CharField(
        max_length=100, required=False, label="Prolific screen-out code"
    )
    interval_width = forms.FloatField(
        min_value=0.02, max_value=0.5, initial=0.1, required=False,
        label="Planned 95% interval width (win share)",
        help_text="Not saved; the power planner's prompts-needed figure uses it.",
    )  # fmt: skip

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        presets = [("", "The kind's LIMA form"), *instrument_choices_for_form(team=team)]
        self.fields["instrument"].choices = presets
        self.fields["prompt_set"].queryset = team_prompt_sets(team=team).order_by("slug")
        models = team_models(team=team).order_by("slug")
        self.fields["target_model"].queryset = models
        self.fields["baselines"].queryset = models

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        slug = data.get("instrument")
        instrument = instrument_latest(team=self.team, slug=slug) if slug else None
        data["instrument"] = instrument
        if instrument is not None and data.get("kind") not in STUDY_KINDS[instrument.kind]:
            kinds = " or ".join(STUDY_KINDS[instrument.kind])
            self.add_error("instrument", f"a {instrument.kind} instrument runs a {kinds} study")
        target, baselines = data.get("target_model"), data.get("baselines") or []
        if target is not None and target in baselines:
            self.add_error("baselines", "must not include the target model")
        if data.get("kind") == Study.Kind.PAIRWISE and "baselines" in data and not baselines:
            self.add_error("baselines", "a pairwise study needs at least one baseline")
        return data

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of studies.services.study_create."""
        d = self.cleaned_data
        fields = {k: d[k] for k in ("slug", "name", "kind", "prompt_set", "target_model",
                                    "raters_per_item", "attention_check_rate", "session_quota",
                                    "completion_code", "screenout_code",
                                    "instrument")}  # fmt: skip
        fields["baselines"] = list(d["baselines"]) if d["kind"] == Study.Kind.PAIRWISE else []
        fields["reservation_seconds"] = d["reservation_minutes"] * 60
        return fields


class JudgeForm(forms.Form):
    """Register an LLM judge: where it is and how to ask it; the key stays in the environment."""

    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200)
    base_url = forms.URLField(
        max_length=500, label="Endpoint URL (OpenAI-compatible)", assume_scheme="https"
    )
    model = forms.CharField(max_length=200)
    template = forms.ChoiceField(
        choices=Judge.Template.choices, initial=Judge.Template.LIMA_PAIRWISE
    )
    api_key_env = forms.CharField(
        max_length=100, required=False, label="API key variable name",
        help_text="The name of the environment variable that holds the key, never the key.",
    )  # fmt: skip

    def clean_api_key_env(self) -> str:
        value = self.cleaned_data["api_key_env"].strip()
        if value and not value.replace("_", "").isalnum():
            raise forms.ValidationError("a variable name: letters, digits and underscores")
        return value


class JudgeRunForm(forms.Form):
    judge = forms.ModelChoiceField(queryset=Judge.objects.none(), to_field_name="slug")
    budget_usd = forms.DecimalField(
        min_value=0, decimal_places=2, required=False, label="Budget (USD)"
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["judge"].queryset = team_judges(team=team).order_by("slug")
