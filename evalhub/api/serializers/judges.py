"""Judges: as answered, and the register request (one variant per template)."""

from __future__ import annotations

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from evalhub.api.serializers.common import (
    ENV_NAME_VALIDATOR,
    HTTP_URL_VALIDATOR,
    NOT_BLANK_VALIDATOR,
)
from evalhub.api.strict import (
    StrictCharField,
    StrictChoiceField,
    StrictFloatField,
    StrictIntegerField,
    StrictJSONObjectField,
    StrictSerializer,
    StrictSlugField,
)
from evalhub.studies.models import Judge


class JudgeSerializer(serializers.ModelSerializer):
    """An LLM judge, as the API answers it."""

    base_url = serializers.CharField()  # as given

    class Meta:
        model = Judge
        fields = [
            "slug", "name", "model", "base_url", "api_key_env", "template", "custom_template",
            "params", "verdict_mode", "version_hash", "created_at",
        ]  # fmt: skip


class _JudgeParams(StrictSerializer):
    """How the judge is called (all optional). Verdict-changing: temperature, max_tokens,
    top_p, seed, samples, extra_body; operational: the rest."""

    temperature = StrictFloatField(min_value=0, max_value=2, required=False,
                                   help_text="default 0 (Likert 1.0)")  # fmt: skip
    max_tokens = StrictIntegerField(min_value=1, max_value=1_000_000, required=False)
    top_p = StrictFloatField(min_value=0, max_value=1, required=False)
    seed = StrictIntegerField(min_value=0, max_value=2**31 - 1, required=False)
    extra_body = StrictJSONObjectField(required=False,
                                       help_text="merged into every request body")  # fmt: skip
    concurrency = StrictIntegerField(min_value=1, max_value=4096, required=False)
    rpm = StrictIntegerField(min_value=1, max_value=10**9, required=False)
    tpm = StrictIntegerField(min_value=1, max_value=10**12, required=False)
    timeout_s = StrictFloatField(min_value=0.1, max_value=86_400, required=False)
    max_attempts = StrictIntegerField(min_value=1, max_value=100, required=False)
    max_reasks = StrictIntegerField(min_value=0, max_value=100, required=False)
    backoff_base_s = StrictFloatField(min_value=0, max_value=3600, required=False)
    backoff_max_s = StrictFloatField(min_value=0, max_value=86_400, required=False)


class OneSampleJudgeParams(_JudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=1, required=False,
                                 help_text="one answer per output")  # fmt: skip


class LikertJudgeParams(_JudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=16, required=False,
                                 help_text="answers per output, averaged (LIMA: 5)")  # fmt: skip


class CustomJudgeParams(LikertJudgeParams):
    samples = StrictIntegerField(min_value=1, max_value=16, required=False,
                                 help_text="more than 1 only on the likert scale")  # fmt: skip
    scale = StrictChoiceField(choices=["pairwise", "label", "likert"], required=False,
                              help_text="default: read from the template's slots")  # fmt: skip
    choices = serializers.DictField(
        child=StrictCharField(validators=[NOT_BLANK_VALIDATOR]), required=False,
        help_text="answer text -> meaning; the scale's defaults when omitted",
    )  # fmt: skip


class _JudgeRegisterBase(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, required=False, help_text="default: the slug")
    model = StrictCharField(max_length=200, validators=[NOT_BLANK_VALIDATOR])
    base_url = StrictCharField(max_length=500, validators=[HTTP_URL_VALIDATOR])
    api_key_env = StrictCharField(max_length=100, required=False, validators=[ENV_NAME_VALIDATOR])
    verdict_mode = StrictChoiceField(choices=Judge.VerdictMode.choices, required=False)


class OneSampleJudgeRegisterSerializer(_JudgeRegisterBase):
    """LIMA's pairwise prompt or Fail / Pass / Excellent: one answer per output."""

    template = StrictChoiceField(choices=["lima_pairwise", "fail_pass_excellent"])
    params = OneSampleJudgeParams(required=False)


class LikertJudgeRegisterSerializer(_JudgeRegisterBase):
    """LIMA's 1-6 helpfulness prompt, several samples averaged."""

    template = StrictChoiceField(choices=["lima_likert"])
    params = LikertJudgeParams(required=False)


class CustomJudgeRegisterSerializer(_JudgeRegisterBase):
    """Your own template: {prompt} with {response_a} and {response_b} (pairwise), or
    {prompt} with {response} (single output). Slots, scale, choices and samples that do not
    fit together answer 409 naming the field."""

    template = StrictChoiceField(choices=["custom"])
    custom_template = StrictCharField(validators=[NOT_BLANK_VALIDATOR])
    params = CustomJudgeParams(required=False)


JUDGE_REGISTER_VARIANTS: dict[str, type[StrictSerializer]] = {
    "lima_pairwise": OneSampleJudgeRegisterSerializer,
    "fail_pass_excellent": OneSampleJudgeRegisterSerializer,
    "lima_likert": LikertJudgeRegisterSerializer,
    "custom": CustomJudgeRegisterSerializer,
}
JudgeRegisterRequest = PolymorphicProxySerializer(
    component_name="JudgeRegister",
    serializers=JUDGE_REGISTER_VARIANTS,
    resource_type_field_name="template",
)
