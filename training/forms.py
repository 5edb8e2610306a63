from __future__ import annotations

import json
from typing import Any

from django import forms

from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Judge, Study
from evalhub.teams.models import Team
from training.models import Recipe, TrainingDataset
from training.selectors import team_datasets


class DatasetImportForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200, required=False)
    file = forms.FileField(help_text='LIMA JSONL: {"conversations": [...], "source": "..."}')
    tokenizer = forms.CharField(
        max_length=500, required=False, help_text="A tokenizer path, to measure token lengths"
    )


class RecipeForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200)
    based_on = forms.ModelChoiceField(Recipe.objects.all(), required=False)
    settings = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 6}),
        initial="{}",
        help_text='JSON overrides, e.g. {"batch_size": 16, "epochs": 10}',
    )
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_settings(self) -> dict[str, Any]:
        try:
            value = json.loads(self.cleaned_data["settings"] or "{}")
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON ({exc.msg})") from None
        if not isinstance(value, dict):
            raise forms.ValidationError("must be a JSON object")
        return value


class RunForm(forms.Form):
    name = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=80, required=False)
    dataset = forms.ModelChoiceField(TrainingDataset.objects.all())
    base_model = forms.CharField(max_length=500, help_text="A local path or hub name")
    recipe = forms.ModelChoiceField(Recipe.objects.all())

    def __init__(self, *args: Any, team: Team, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the team's datasets: another team's is not offered and not accepted.
        self.fields["dataset"].queryset = team_datasets(team=team)


class SelectionForm(forms.Form):
    prompt_set = forms.ModelChoiceField(PromptSet.objects.all(), label="Dev prompt set")
    # A custom template may be of any scale: the service refuses one that is neither.
    judge = forms.ModelChoiceField(
        Judge.objects.exclude(template=Judge.Template.FAIL_PASS_EXCELLENT),
        help_text="A Likert judge rates each epoch; a pairwise judge compares each epoch with "
        "the previous one",
    )


class StudyFromCheckpointForm(forms.Form):
    slug = forms.SlugField(max_length=100)
    name = forms.CharField(max_length=200, required=False)
    prompt_set = forms.ModelChoiceField(PromptSet.objects.all())
    kind = forms.ChoiceField(choices=Study.Kind.choices)
    baselines = forms.ModelMultipleChoiceField(ModelEntry.objects.all(), required=False)
