"""API: publish a closed study (a job), list its versions, download one as an archive, and
import an archive as a new study (a job). Same services as the workspace pages
(evalhub.releases.services, evalhub.releases.importing)."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.errors import Conflict
from evalhub.api.serializers.runs import JobSerializer
from evalhub.api.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictChoiceField,
    StrictModelSerializer,
    StrictSerializer,
    StrictSlugField,
)
from evalhub.api.views.common import error_responses, get_or_404
from evalhub.releases import selectors, services
from evalhub.releases.importing import release_import_start
from evalhub.releases.models import Release
from evalhub.studies.selectors import team_studies


class ReleasePublishRequest(StrictSerializer):
    license = StrictChoiceField(choices=list(services.LICENSES), required=False)
    include_comments = StrictBooleanField(
        required=False, help_text="include rater comments (free text); off by default"
    )
    withhold_model_names = StrictBooleanField(
        required=False, help_text="name models by role (target, baseline-N) in every file"
    )
    hub_repo = StrictCharField(
        required=False, max_length=96, help_text="also push it to this dataset repo "
        "(`owner/name`) on the configured hub; 409 where none is configured",
    )  # fmt: skip


class ReleaseSerializer(StrictModelSerializer):
    study = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    archive = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = [
            "study", "version", "status", "job", "license", "include_comments",
            "withhold_model_names", "archive_sha256", "archive_bytes", "counts", "changes",
            "error", "pushed_to", "created_at", "finished_at", "archive",
        ]  # fmt: skip
        read_only_fields = fields

    def get_archive(self, release: Release) -> str | None:
        if release.status != Release.Status.READY:
            return None
        return f"/api/v1/studies/{release.study.slug}/releases/{release.version}/archive/"


class StudyReleases(APIView):
    @extend_schema(
        summary="A study's releases",
        description="Every version, newest first.",
        responses={200: ReleaseSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, slug: str) -> Response:
        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        return Response(ReleaseSerializer(selectors.releases_of_study(study=study), many=True).data)

    @extend_schema(
        summary="Publish a closed study as a dataset (the next version)",
        description="Queues a job that writes parquet files, a dataset card and checksums into "
        "one archive; poll the job at `/api/v1/jobs/{id}/`. Earlier versions never change. "
        "409 unless the study is closed.",
        request=ReleasePublishRequest,
        responses={202: ReleaseSerializer, **error_responses(409, 415)},
    )
    def post(self, request: Request, slug: str) -> Response:
        body = ReleasePublishRequest(data=request.data)
        body.is_valid(raise_exception=True)
        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        try:
            release = services.release_publish(study=study, by=request.user, **body.validated_data)
        except (services.ReleaseStateError, services.ReleasePushError) as exc:
            raise Conflict(str(exc)) from None
        return Response(
            ReleaseSerializer(release).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/jobs/{release.job_id}/"},
        )


class _ZipRenderer(renderers.BaseRenderer):
    media_type = "application/zip"
    format = "zip"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return renderers.JSONRenderer().render(data)  # only errors are rendered


@extend_schema(
    summary="Download one version of a study's release (zip)",
    responses={
        (200, "application/zip"): OpenApiTypes.BINARY,
        **error_responses(409, json_only=True),
    },
)
class ReleaseArchive(APIView):
    renderer_classes = [_ZipRenderer, renderers.JSONRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON whatever was asked for (?format=, Accept).
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    def get(self, request: Request, slug: str, version: int) -> FileResponse:
        release = get_or_404(
            Release.objects.select_related("study"),
            "release",
            study__team=request.team,
            study__slug=slug,
            version=version,
        )
        if release.status != Release.Status.READY:
            raise Conflict(f"release v{version} of {slug} is {release.status}")
        return FileResponse(
            release.archive_path.open("rb"), as_attachment=True, filename=release.archive_name,
            content_type="application/zip",
        )  # fmt: skip


class ReleaseImportSerializer(StrictSerializer):
    """A release archive and the slug of the study it becomes."""

    archive = serializers.FileField(
        allow_empty_file=True,  # refused by the archive check, naming the file
        help_text="a release archive (zip) as EvalHub publishes it",
    )
    slug = StrictSlugField(max_length=100, help_text="slug of the new study and its prompt set")


@extend_schema(
    summary="Import a release archive as a new, closed study",
    description="Checks the archive's layout and the slug, then queues a job that verifies "
    "the checksums and every file, and writes the study with the release's results in one "
    "transaction; poll it at `/api/v1/jobs/{id}/` (a bad file fails the job with an error "
    "naming the file, row and field, and writes nothing). 409 when the archive is not a "
    "release archive or the slug is taken.",
    request={"multipart/form-data": ReleaseImportSerializer},
    responses={202: JobSerializer, **error_responses(409, 415)},
)
class ReleaseImport(APIView):
    parser_classes = [MultiPartParser]

    def post(self, request: Request) -> Response:
        body = ReleaseImportSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        job = release_import_start(team=request.team, by=request.user, **body.validated_data)
        return Response(
            JobSerializer(job).data,
            status=status.HTTP_202_ACCEPTED,
            headers={"Location": f"/api/v1/jobs/{job.pk}/"},
        )
