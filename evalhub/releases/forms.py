from django import forms

from evalhub.releases.services import LICENSES


class PublishForm(forms.Form):
    license = forms.ChoiceField(choices=[(x, x) for x in LICENSES], initial="cc-by-4.0")
    include_comments = forms.BooleanField(
        required=False,
        label="Include rater comments (free text)",
        help_text="Off by default: comments may hold what raters wrote about themselves.",
    )
    withhold_model_names = forms.BooleanField(
        required=False,
        label="Withhold model names",
        help_text="Models appear by role (target, baseline-1, ...) in every file.",
    )
