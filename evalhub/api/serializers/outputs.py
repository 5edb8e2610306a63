"""Models and outputs: registering a model (external, local or API), and the outputs
and import results the API answers."""

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
    StrictIntegerField,
    StrictJSONObjectField,
    StrictSerializer,
    StrictSlugField,
)
from evalhub.outputs.models import ModelEntry, Output


class ModelEntrySerializer(serializers.ModelSerializer):
    """A registered model, as the API answers it."""

    base_url = serializers.CharField()  # as given: an http(s) URL, or "" for other kinds

    class Meta:
        model = ModelEntry
        fields = [
            "slug", "name", "kind", "model_path", "base_url", "api_key_env",
            "tensor_parallel_size", "generation_config", "description", "created_at",
        ]  # fmt: skip


class _ModelRegisterBase(StrictSerializer):
    slug = StrictSlugField(max_length=100)
    name = StrictCharField(max_length=200, required=False, help_text="default: the slug")
    generation_config = StrictJSONObjectField(required=False)
    description = StrictCharField(required=False, allow_blank=True)


class ExternalModelRegisterSerializer(_ModelRegisterBase):
    """A model whose outputs arrive through this API."""

    kind = StrictChoiceField(choices=["external"])


class LocalModelRegisterSerializer(_ModelRegisterBase):
    """A model run by vLLM on the generation workers."""

    kind = StrictChoiceField(choices=["local"])
    model_path = StrictCharField(max_length=500, validators=[NOT_BLANK_VALIDATOR],
                                 help_text="a path or hub name of the weights")  # fmt: skip
    tensor_parallel_size = StrictIntegerField(min_value=1, max_value=64, required=False)


class ApiModelRegisterSerializer(_ModelRegisterBase):
    """A model behind an OpenAI-compatible endpoint."""

    kind = StrictChoiceField(choices=["api"])
    model_path = StrictCharField(max_length=500, validators=[NOT_BLANK_VALIDATOR],
                                 help_text="the model's name at the endpoint")  # fmt: skip
    base_url = StrictCharField(max_length=500, validators=[HTTP_URL_VALIDATOR])
    api_key_env = StrictCharField(max_length=100, required=False, validators=[ENV_NAME_VALIDATOR],
                                  help_text="the environment variable holding its key")  # fmt: skip


MODEL_REGISTER_VARIANTS: dict[str, type[StrictSerializer]] = {
    "external": ExternalModelRegisterSerializer,
    "local": LocalModelRegisterSerializer,
    "api": ApiModelRegisterSerializer,
}
ModelRegisterRequest = PolymorphicProxySerializer(
    component_name="ModelRegister",
    serializers=MODEL_REGISTER_VARIANTS,
    resource_type_field_name="kind",
)


class OutputSerializer(serializers.ModelSerializer):
    model = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    prompt_external_id = serializers.CharField(source="prompt.external_id", read_only=True)

    class Meta:
        model = Output
        fields = [
            "id", "prompt", "prompt_external_id", "model", "sample_index", "text",
            "turns", "provenance", "created_at",
        ]  # fmt: skip


class OutputImportResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    models_created = serializers.ListField(child=serializers.CharField())
    changed_nothing = serializers.BooleanField()
    detail = serializers.CharField()
