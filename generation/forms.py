from typing import Any

from django import forms

from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets
from evalhub.teams.models import Team
from generation.services import MAX_SAMPLES


class GenerationRunForm(forms.Form):
    """Start a generation run; blank decoding fields keep LIMA's (or the model's) values."""

    # The querysets are the team's (set in __init__).
    model = forms.ModelChoiceField(queryset=ModelEntry.objects.none(), to_field_name="slug")
    prompt_set = forms.ModelChoiceField(queryset=PromptSet.objects.none(), to_field_name="slug")
    samples = forms.IntegerField(min_value=1, max_value=MAX_SAMPLES, initial=1)
    max_tokens = forms.IntegerField(min_value=1, required=False)
    temperature = forms.FloatField(min_value=0, max_value=10, required=False)
    top_p = forms.FloatField(min_value=0, max_value=1, required=False)
    repetition_penalty = forms.FloatField(min_value=0.01, max_value=10, required=False)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    OVERRIDES = ("max_tokens", "temperature", "top_p", "repetition_penalty", "seed")

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        models = team_models(team=team).exclude(kind=ModelEntry.Kind.EXTERNAL)
        self.fields["model"].queryset = models.order_by("slug")
        self.fields["prompt_set"].queryset = team_prompt_sets(team=team).order_by("slug")

    def overrides(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.OVERRIDES if self.cleaned_data[k] is not None}
