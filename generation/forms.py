from django import forms

from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from generation.services import MAX_SAMPLES


class GenerationRunForm(forms.Form):
    """Start a generation run; blank decoding fields keep LIMA's (or the model's) values."""

    model = forms.ModelChoiceField(
        queryset=ModelEntry.objects.exclude(kind=ModelEntry.Kind.EXTERNAL), to_field_name="slug"
    )
    prompt_set = forms.ModelChoiceField(queryset=PromptSet.objects.all(), to_field_name="slug")
    samples = forms.IntegerField(min_value=1, max_value=MAX_SAMPLES, initial=1)
    max_tokens = forms.IntegerField(min_value=1, required=False)
    temperature = forms.FloatField(min_value=0, max_value=10, required=False)
    top_p = forms.FloatField(min_value=0, max_value=1, required=False)
    repetition_penalty = forms.FloatField(min_value=0.01, max_value=10, required=False)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, required=False)

    OVERRIDES = ("max_tokens", "temperature", "top_p", "repetition_penalty", "seed")

    def overrides(self) -> dict:
        return {k: self.cleaned_data[k] for k in self.OVERRIDES if self.cleaned_data[k] is not None}
