"""Studies: create, launch, close (evalhub.studies.services), and their results."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.errors import Conflict
from evalhub.api.serializers.common import discriminated
from evalhub.api.serializers.studies import (
    STUDY_CREATE_VARIANTS,
    StudyCreateRequest,
    StudySerializer,
)
from evalhub.api.views.common import check_query, error_responses, get_or_404
from evalhub.studies.selectors import team_studies
from evalhub.studies.services import study_create


class StudyListCreate(generics.ListAPIView):
    serializer_class = StudySerializer

    def get_queryset(self):
        studies = team_studies(team=self.request.team)
        return studies.select_related("prompt_set", "target_model").prefetch_related(
            "baselines", "judges"
        )

    @extend_schema(
        summary="List studies", responses={200: StudySerializer(many=True), **error_responses()}
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a study (draft)",
        description="A `pairwise` study compares `target_model` with each of `baselines` "
        "over `prompt_set`; `absolute`, `dialogue` and `likert` studies judge the target's "
        "outputs alone and take no baselines. Unknown slugs, a slug already taken or the "
        "target among the baselines answer 409. Launch it to freeze its config and make "
        "its items.",
        request=StudyCreateRequest,
        responses={201: StudySerializer, **error_responses(400, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        body = discriminated(request.data, "kind", STUDY_CREATE_VARIANTS, {"team": request.team})
        body.is_valid(raise_exception=True)
        study = study_create(**body.validated_data, team=request.team, created_by=request.user)
        return Response(
            StudySerializer(study).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/studies/{study.slug}/"},
        )


class _StudyTransition(APIView):
    """POST with no body: call one study service, answer the study as it is now."""

    service_name = ""

    def post(self, request: Request, slug: str) -> Response:
        from evalhub.live.creation import live_study_launch
        from evalhub.live.errors import LiveInputError
        from evalhub.live.monitoring import is_live
        from evalhub.studies import services

        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        service = getattr(services, self.service_name)
        if self.service_name == "study_launch" and is_live(study):
            service = live_study_launch  # a live study has no items to make
        try:
            service(study=study, by=request.user)
        except (services.StudyStateError, LiveInputError) as exc:
            raise Conflict(str(exc)) from None
        study.refresh_from_db()
        return Response(StudySerializer(study).data)


@extend_schema(
    summary="Launch a study",
    description="Freezes and hashes its config and makes its items; prompts lacking an output "
    "from a chosen model are left out (listed in `config.prompts_left_out`). 409 unless it "
    "is a draft that can be launched (no prompt left, an empty prompt set, no baselines), "
    "naming what is wrong.",
    request=None,
    responses={200: StudySerializer, **error_responses(409)},
)
class StudyLaunch(_StudyTransition):
    service_name = "study_launch"


@extend_schema(
    summary="Close a study",
    description="Stops handing out items; 409 unless it is launched.",
    request=None,
    responses={200: StudySerializer, **error_responses(409)},
)
class StudyClose(_StudyTransition):
    service_name = "study_close"


class ResultsQuery(serializers.Serializer):
    groups = serializers.CharField(
        required=False, max_length=1000, help_text='judge groups, comma-separated ("crowd,llm:x")'
    )
    category = serializers.CharField(required=False, max_length=100)


@extend_schema(
    summary="A study's results",
    description="The dashboards' numbers as JSON (evalhub.dashboards.selectors.study_results): "
    "win / tie / loss shares with intervals and a sign test per baseline and judge group "
    "(pairwise), agreement between judge groups, Fail / Pass / Excellent shares, Likert "
    "means, bias reports. Shares are fractions (0..1). Optional filters: `groups`, `category`.",
    parameters=[ResultsQuery],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **error_responses(400)},
)
class StudyResults(APIView):
    def get(self, request: Request, slug: str) -> Response:
        from evalhub.dashboards.selectors import study_results  # numpy/scipy, on demand

        query = check_query(ResultsQuery, request)
        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        groups = [g.strip() for g in query.get("groups", "").split(",") if g.strip()]
        return Response(
            study_results(study, groups=groups or None, category=query.get("category") or None)
        )
