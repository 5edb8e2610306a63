"""Models under evaluation: register (model_register) and read."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from evalhub.api.errors import Conflict, field_conflict
from evalhub.api.serializers.common import discriminated
from evalhub.api.serializers.judges import (
    JUDGE_REGISTER_VARIANTS,
    JudgeRegisterRequest,
    JudgeSerializer,
)
from evalhub.api.serializers.outputs import (
    MODEL_REGISTER_VARIANTS,
    ModelEntrySerializer,
    ModelRegisterRequest,
)
from evalhub.api.views.common import error_responses, get_or_404
from evalhub.outputs.models import ModelEntry
from evalhub.outputs.selectors import team_models
from evalhub.outputs.services import model_register
from evalhub.studies.selectors import team_judges


class ModelListCreate(generics.ListAPIView):
    serializer_class = ModelEntrySerializer

    def get_queryset(self):
        return team_models(team=self.request.team).order_by("slug")

    @extend_schema(
        summary="List models", responses={200: ModelEntrySerializer(many=True), **error_responses()}
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register a model",
        description="Kinds: `local` (vLLM; needs `model_path`), `api` (OpenAI-compatible; "
        "needs `model_path` = the model name there, and `base_url`), `external` (outputs "
        "arrive through this API). Registering the same slug again with the same fields "
        "answers 200 with the existing model; with other fields, 409.",
        request=ModelRegisterRequest,
        responses={
            201: ModelEntrySerializer,
            200: ModelEntrySerializer,
            **error_responses(400, 409, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        body = discriminated(request.data, "kind", MODEL_REGISTER_VARIANTS)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        fields["name"] = fields.get("name") or fields["slug"]
        existing = team_models(team=request.team).filter(slug=fields["slug"]).first()
        if existing is not None:
            if any(getattr(existing, k) != v for k, v in fields.items()):
                raise Conflict(
                    f"A model {existing.slug!r} is already registered with other settings."
                )
            return Response(ModelEntrySerializer(existing).data, status=status.HTTP_200_OK)
        model = model_register(team=request.team, **fields)
        return Response(
            ModelEntrySerializer(model).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/models/{model.slug}/"},
        )


@extend_schema(summary="A model", responses={200: ModelEntrySerializer, **error_responses()})
class ModelDetail(generics.RetrieveAPIView):
    serializer_class = ModelEntrySerializer

    def get_object(self) -> ModelEntry:
        return get_or_404(team_models(team=self.request.team), "model", slug=self.kwargs["slug"])


class JudgeListCreate(generics.ListAPIView):
    serializer_class = JudgeSerializer

    def get_queryset(self):
        return team_judges(team=self.request.team).order_by("slug")

    @extend_schema(
        summary="List LLM judges",
        description="Judges are named by slug in studies and judge runs.",
        responses={200: JudgeSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Register an LLM judge",
        description="A model at an OpenAI-compatible `base_url` (OpenAI, a gateway, `vllm "
        "serve`) with a template (`lima_pairwise`, `lima_likert`, `fail_pass_excellent`, "
        "`custom`, with `custom_template`). The same slug and configuration again answers "
        "200; a changed configuration needs a new slug (409). A custom template's slots, "
        "`params.scale`, `params.choices` and `params.samples` must fit together (409 "
        "naming the field otherwise).",
        request=JudgeRegisterRequest,
        responses={
            201: JudgeSerializer,
            200: JudgeSerializer,
            **error_responses(400, 409, 413, 415),
        },
    )
    def post(self, request: Request) -> Response:
        body = discriminated(request.data, "template", JUDGE_REGISTER_VARIANTS)
        body.is_valid(raise_exception=True)
        fields = dict(body.validated_data)
        fields["params"] = dict(fields.get("params") or {})
        fields["name"] = fields.get("name") or fields["slug"]
        existed = team_judges(team=request.team).filter(slug=fields["slug"]).exists()
        from generation.judging.config import JudgeConfigError  # the judge stack, on demand
        from generation.judging.services import judge_register

        try:
            judge = judge_register(team=request.team, **fields)
        except JudgeConfigError as exc:
            raise field_conflict(exc) from None
        return Response(
            JudgeSerializer(judge).data,
            status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED,
        )
