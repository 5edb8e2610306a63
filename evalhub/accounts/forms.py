from django import forms

MAX_TOKEN_DAYS = 3650


class ApiTokenForm(forms.Form):
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_TOKEN_DAYS,
        help_text="Leave blank for a token that works until you revoke it.",
    )
