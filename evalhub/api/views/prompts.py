"""Prompt sets, created with their prompts in one request (prompts_import)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from evalhub.api.serializers.prompts import (
    PromptSerializer,
    PromptSetCreateSerializer,
    PromptSetSerializer,
)
from evalhub.api.views.common import error_responses, get_or_404
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import prompt_sets_with_counts, prompts_of_set, team_prompt_sets
from evalhub.prompts.services import prompts_import


class PromptSetListCreate(generics.ListAPIView):
    serializer_class = PromptSetSerializer

    def get_queryset(self):
        return prompt_sets_with_counts(team=self.request.team).order_by("slug")

    @extend_schema(
        summary="List prompt sets",
        responses={200: PromptSetSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a prompt set with its prompts",
        description="Each prompt is ours (`id`, `text`, ...) or LIMA's (`conversations`). "
        "All prompts are checked first and nothing is written unless all pass: a row that "
        "breaks its shape gives 400, an id given twice or a slug already taken 409; both "
        "name the row (position in `prompts`, from 1) and field.",
        request=PromptSetCreateSerializer,
        responses={201: PromptSetSerializer, **error_responses(400, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        body = PromptSetCreateSerializer(data=request.data, context={"team": request.team})
        body.is_valid(raise_exception=True)
        data = body.validated_data
        result = prompts_import(
            team=request.team,
            slug=data["slug"],
            rows=data["prompts"],
            name=data.get("name", ""),
            description=data.get("description", ""),
        )
        return Response(
            PromptSetSerializer(result.prompt_set).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/prompt-sets/{result.prompt_set.slug}/"},
        )


@extend_schema(summary="A prompt set", responses={200: PromptSetSerializer, **error_responses()})
class PromptSetDetail(generics.RetrieveAPIView):
    serializer_class = PromptSetSerializer

    def get_object(self) -> PromptSet:
        return get_or_404(
            team_prompt_sets(team=self.request.team), "prompt set", slug=self.kwargs["slug"]
        )


@extend_schema(
    summary="The prompts of a set, in order",
    description="Their `id` is what output rows can name as `prompt_id`.",
    responses={200: PromptSerializer(many=True), **error_responses()},
)
class PromptList(generics.ListAPIView):
    serializer_class = PromptSerializer

    def get_queryset(self):
        prompt_set = get_or_404(
            team_prompt_sets(team=self.request.team), "prompt set", slug=self.kwargs["slug"]
        )
        return prompts_of_set(prompt_set=prompt_set)
