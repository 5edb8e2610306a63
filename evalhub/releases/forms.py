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
    hub_repo = forms.RegexField(
        regex=r"^[\w.-]+/[\w.-]+$",
        required=False,
        max_length=96,
        label="Also push to the hub as (owner/name)",
        help_text="A dataset repository on the configured hub; tagged with the version.",
    )

    def __init__(self, *args, hub: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not hub:  # no HF_TOKEN: nowhere to push
            del self.fields["hub_repo"]


class ReleaseImportForm(forms.Form):
    archive = forms.FileField(
        label="Release archive (zip)",
        help_text="The archive of a release, as published by this or another EvalHub.",
        allow_empty_file=True,  # refused by the archive check, which names the file
    )
    slug = forms.SlugField(
        max_length=100,
        label="Slug of the new study",
        help_text="The study and its prompt set get this slug; it must be free.",
    )
