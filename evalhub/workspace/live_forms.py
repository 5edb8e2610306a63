"""The new-live-study form: the settings evalhub.live.creation.live_study_create takes,
with the same bounds, so the workspace and the API create the same study."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from evalhub.instruments.definitions import PAIRWISE
from evalhub.instruments.models import Instrument
from evalhub.instruments.selectors import instrument_latest, instrument_list
from evalhub.live.models import LiveStudy
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study
from evalhub.studies.selectors import team_judges
from evalhub.teams.models import Team


def live_endpoints(*, team: Team) -> QuerySet[ModelEntry]:
    """`team`'s models a live study can talk to: registered with an OpenAI-compatible
    endpoint."""
    return (
        team_models(team=team)
        .exclude(kind=ModelEntry.Kind.EXTERNAL)
        .exclude(base_url="")
        .exclude(model_path="")
        .order_by("slug")
    )


class LiveStudyForm(forms.Form):
    mode = forms.ChoiceField(
        choices=LiveStudy.Mode.choices, widget=forms.RadioSelect, initial=LiveStudy.Mode.BATTLE
    )
    participants = forms.ChoiceField(
        choices=LiveStudy.Participants.choices, widget=forms.RadioSelect, required=False,
        initial=LiveStudy.Participants.PROLIFIC, label="Who takes part",
        help_text="Staff log in and open the study from its page here; they need no codes.",
    )  # fmt: skip
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=95, help_text="Its prompts are kept in <slug>-live.")
    models = forms.ModelMultipleChoiceField(
        queryset=ModelEntry.objects.none(), to_field_name="slug",
        widget=forms.CheckboxSelectMultiple, label="Models (registered endpoints)",
        help_text="A battle needs two or more; a conversation pairs each rater with one.",
    )  # fmt: skip
    instrument = forms.ChoiceField(
        required=False, label="Battle question (instrument)",
        help_text="What a battle asks; blank: LIMA's 3-way question. Conversations ask LIMA's "
        "Fail / Pass / Excellent per answer.",
    )  # fmt: skip
    max_turns = forms.IntegerField(
        min_value=1, max_value=20, initial=3, label="Turns per conversation or battle"
    )
    session_quota = forms.IntegerField(
        min_value=1, max_value=1000, initial=3,
        label="Conversations or battles per participant",
    )  # fmt: skip
    target_per_pair = forms.IntegerField(
        min_value=1, max_value=100_000, initial=10,
        help_text="Battles: votes each pair of models reaches; conversations: per model.",
    )  # fmt: skip
    adaptive = forms.BooleanField(
        required=False, label="Adaptive pairing (off: uniform is as good or better)",
        help_text="Battles: pick the pair whose vote most narrows the Bradley-Terry intervals. "
        "In simulation (200 battles, 6 models, 300 seeds, four truths) it did not narrow the "
        "intervals over uniform pairing (mean width ratio about 1.00, worse in about half "
        "the seeds), so uniform is the default.",
    )  # fmt: skip
    reveal_models = forms.BooleanField(
        required=False, label="Reveal the model names after the vote (off for blind studies)"
    )
    max_tokens = forms.IntegerField(
        min_value=1, max_value=8192, required=False, label="Max tokens per answer",
        help_text="Caps each model's own sampling (its generation config) for this study.",
    )  # fmt: skip
    concurrency = forms.IntegerField(
        min_value=1, max_value=1000, required=False, label="Streams at once per model",
        help_text="Per web process; blank: no cap.",
    )  # fmt: skip
    max_prompt_chars = forms.IntegerField(
        min_value=1, max_value=100_000, initial=4000, label="Longest message (characters)"
    )
    messages_per_minute = forms.IntegerField(
        min_value=1, max_value=600, initial=6, label="Messages per participant per minute"
    )
    blocklist = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One word or phrase a line; a message containing one is refused.",
    )  # fmt: skip
    moderation_judge = forms.ModelChoiceField(
        queryset=Judge.objects.none(), to_field_name="slug", required=False,
        help_text="An LLM judge asked whether each message is harmful; blank: none.",
    )  # fmt: skip
    completion_code = forms.CharField(
        max_length=100, required=False, label="Prolific completion code"
    )
    screenout_code = forms.CharField(
        max_length=100, required=False, label="Prolific screen-out code"
    )

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["models"].queryset = live_endpoints(team=team)
        self.fields["moderation_judge"].queryset = team_judges(team=team).order_by("slug")
        pairwise = [(i.slug, i.name) for i in instrument_list(team=team) if i.kind == PAIRWISE]
        self.fields["instrument"].choices = [("", "LIMA's 3-way question"), *pairwise]

    def clean_instrument(self) -> Instrument | None:
        slug = self.cleaned_data.get("instrument")
        return instrument_latest(team=self.team, slug=slug) if slug else None

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if Study.objects.filter(team=self.team, slug=slug).exists():
            raise forms.ValidationError(f"a study {slug!r} already exists")
        if PromptSet.objects.filter(team=self.team, slug=f"{slug}-live").exists():
            raise forms.ValidationError(f"a prompt set {slug}-live already exists")
        return slug

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        chosen = data.get("models") or []
        battle = data.get("mode") == LiveStudy.Mode.BATTLE
        if battle and "models" in data and len(chosen) < 2:
            self.add_error("models", "a live battle needs at least two models")
        # Blank (a form posted without the choice): Prolific, as before staff studies.
        data["participants"] = data.get("participants") or LiveStudy.Participants.PROLIFIC
        if data["participants"] == LiveStudy.Participants.STAFF:
            for code in ("completion_code", "screenout_code"):
                if data.get(code):
                    self.add_error(code, "a staff study has no Prolific codes")
        if not battle and data.get("instrument") is not None:
            data["instrument"] = None  # conversations ask LIMA's per-turn labels
        return data

    def service_fields(self) -> dict[str, Any]:
        """The keyword arguments of live_study_create."""
        d = self.cleaned_data
        models = list(d["models"])
        limits = {k: d[k] for k in ("max_tokens", "concurrency") if d.get(k)}
        fields = {k: d[k] for k in ("slug", "name", "mode", "participants", "max_turns",
                                    "session_quota", "target_per_pair", "adaptive", "reveal_models",
                                    "max_prompt_chars", "messages_per_minute",
                                    "moderation_judge", "completion_code", "instrument",
                                    "screenout_code")}  # fmt: skip
        fields["models"] = models
        fields["blocklist"] = [w.strip() for w in d["blocklist"].splitlines() if w.strip()]
        fields["model_limits"] = {m.slug: dict(limits) for m in models} if limits else {}
        return fields
