"""Live studies: create (a draft; /studies/<slug>/launch/ and /close/ move it on, and
/studies/<slug>/results/ answers its results), preview with the real models, and read with
its monitor counts."""

from __future__ import annotations

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from evalhub.api.errors import Conflict, field_conflict
from evalhub.api.serializers.common import discriminated
from evalhub.api.serializers.live import (
    LIVE_STUDY_CREATE_VARIANTS,
    LivePreviewMessageSerializer,
    LivePreviewSerializer,
    LiveStudyCreateRequest,
    LiveStudySerializer,
)
from evalhub.api.views.common import error_responses, get_or_404
from evalhub.live.creation import live_study_create
from evalhub.live.errors import LiveInputError
from evalhub.live.preview import live_preview_turn
from evalhub.studies.models import Study
from evalhub.studies.selectors import team_studies
from evalhub.teams.models import Team


def _live_studies(team: Team) -> QuerySet[Study]:
    return (
        team_studies(team=team)
        .filter(live__isnull=False)
        .select_related("prompt_set", "target_model", "instrument", "live__moderation_judge")
    )


class LiveStudyListCreate(generics.ListAPIView):
    serializer_class = LiveStudySerializer

    def get_queryset(self) -> QuerySet[Study]:
        return (
            _live_studies(self.request.team).prefetch_related("baselines", "judges").order_by("id")
        )

    @extend_schema(
        summary="List live studies",
        responses={200: LiveStudySerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a live study (draft)",
        description="`mode` picks the kind: `conversation` (each participant chats with one "
        "anonymous model and labels every answer) or `battle` (two anonymous models answer "
        "side by side; the participant votes; it may ask any pairwise `instrument`). `models` "
        "are registered models with an OpenAI-compatible endpoint. Launch it with "
        "/studies/<slug>/launch/; its Prolific link is /live/<crowd_code>/ (the study's "
        "`crowd_code`). Unknown slugs, a slug taken in the team, a model without an "
        "endpoint or an instrument that is not pairwise answer 409 naming the field.",
        request=LiveStudyCreateRequest,
        responses={201: LiveStudySerializer, **error_responses(400, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        body = discriminated(
            request.data, "mode", LIVE_STUDY_CREATE_VARIANTS, {"team": request.team}
        )
        body.is_valid(raise_exception=True)
        try:
            study = live_study_create(
                **body.service_fields(), team=request.team, by=request.user, launch=False
            )
        except LiveInputError as exc:  # schema-valid, refused by what the rows say: 409
            raise field_conflict(exc) from None
        return Response(
            LiveStudySerializer(_live_studies(request.team).get(pk=study.pk)).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/live-studies/{study.slug}/"},
        )


@extend_schema(
    summary="A live study, with its monitor counts",
    responses={200: LiveStudySerializer, **error_responses()},
)
class LiveStudyDetail(generics.RetrieveAPIView):
    serializer_class = LiveStudySerializer

    def get_object(self) -> Study:
        return get_or_404(_live_studies(self.request.team), "live study", slug=self.kwargs["slug"])


class LiveStudyPreview(generics.GenericAPIView):
    serializer_class = LivePreviewMessageSerializer

    @extend_schema(
        summary="Preview a live study with its real models (records nothing)",
        description="Sends `text`, after the preview's earlier turns (`history`, per side), to "
        "the study's models: a battle's first pair (A and B), a conversation's first model "
        "(A), with their sampling and the study's limits. Answers come whole, anonymous (by "
        "side), each with its rendered HTML or its endpoint's `error`. Nothing is written. "
        "A message the study refuses (length, blocklist, moderation, max_turns) answers 409.",
        request=LivePreviewMessageSerializer,
        responses={200: LivePreviewSerializer, **error_responses(409, 413, 415)},
    )
    def post(self, request: Request, slug: str) -> Response:
        study = get_or_404(_live_studies(request.team), "live study", slug=slug)
        body = LivePreviewMessageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            answers = live_preview_turn(
                study=study, history=data.get("history") or {}, text=data["text"]
            )
        except LiveInputError as exc:
            raise Conflict(str(exc)) from None
        return Response(LivePreviewSerializer({"answers": answers}).data)
