"""Judgments out (a streamed CSV or JSONL export) and in (judgments_import)."""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import renderers, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.parsers import BulkRowsParser, bulk_rows
from evalhub.api.row_shapes import NOT_BLANK, bulk_body_schema
from evalhub.api.rows import JUDGMENT_ROWS
from evalhub.api.serializers.judgments import JudgmentImportResultSerializer
from evalhub.api.strict import SchemaPattern
from evalhub.api.throttling import BulkRateThrottle, TokenRateThrottle
from evalhub.api.views.common import check_query, error_responses, get_or_404
from evalhub.studies.exports import export_lines
from evalhub.studies.judgment_import import judgments_import
from evalhub.studies.selectors import judgments_export_rows, team_studies


class _ExportRenderer(renderers.BaseRenderer):
    """Chooses the export format (by ?format= or Accept); the body is streamed by the view."""

    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: Any = None, renderer_context: Any = None):
        return renderers.JSONRenderer().render(data)  # only errors are rendered


class CSVExportRenderer(_ExportRenderer):
    media_type = "text/csv"
    format = "csv"


class JSONLinesExportRenderer(_ExportRenderer):
    media_type = "application/x-ndjson"
    format = "jsonl"


@extend_schema(
    summary="Export a study's judgments (streamed)",
    description="CSV (default) or JSON Lines, one judgment per row, in id order. Choose with "
    "`?format=csv|jsonl` or the Accept header.",
    parameters=[OpenApiParameter("format", str, enum=["csv", "jsonl"], required=False)],
    responses={
        (200, "text/csv"): OpenApiTypes.STR,
        (200, "application/x-ndjson"): OpenApiTypes.STR,
        **error_responses(json_only=True),
    },
)
class JudgmentExport(APIView):
    renderer_classes = [CSVExportRenderer, JSONLinesExportRenderer]

    def handle_exception(self, exc: Exception) -> Response:
        # Errors are JSON whatever format was asked for.
        self.request.accepted_renderer = renderers.JSONRenderer()
        self.request.accepted_media_type = "application/json"
        return super().handle_exception(exc)

    def get(self, request: Request, slug: str) -> StreamingHttpResponse:
        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        fmt = request.accepted_renderer.format
        response = StreamingHttpResponse(
            export_lines(judgments_export_rows(study=study), fmt),
            content_type=f"{request.accepted_renderer.media_type}; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{study.slug}-judgments.{fmt}"'
        return response


class JudgmentImportQuery(serializers.Serializer):
    judge_group = serializers.CharField(
        max_length=120,
        trim_whitespace=False,
        validators=[SchemaPattern(NOT_BLANK, "must not be blank")],
        help_text='who judged, as the dashboards group them: "crowd", '
        '"author", "llm:gpt-4", ...'
    )  # fmt: skip
    imported_from = serializers.CharField(
        max_length=200,
        trim_whitespace=False,
        validators=[SchemaPattern(NOT_BLANK, "must not be blank")],
        help_text="the source's name, e.g. the file name; importing the same "
        "rows under the same name again changes nothing"
    )  # fmt: skip


@extend_schema(
    summary="Import judgments made elsewhere",
    description="Human or LLM judgments onto the study's items (launch the study first). "
    "The body is a JSON array or JSON Lines: AlpacaEval's annotations.json as it is "
    "(`instruction`, `generator_1`, `generator_2`, `preference` 1 | 2 | 0 or 1.5 = tie), or "
    "rows naming the item (`item_id`, or the prompt plus `baseline` / `model`) with a "
    "`verdict`, `label` or `score`. A row that breaks its shape gives 400; a row that does "
    "not fit the study (an unknown item, prompt or model, a verdict of another kind of "
    "study, a study not launched, the same name imported before with other rows) gives 409. "
    "Both name the row, and nothing is written.",
    parameters=[JudgmentImportQuery],
    request=bulk_body_schema(JUDGMENT_ROWS),
    responses={
        201: JudgmentImportResultSerializer,
        200: JudgmentImportResultSerializer,
        **error_responses(400, 409, 413, 415),
    },
)
class JudgmentImport(APIView):
    parser_classes = [BulkRowsParser]

    def get_throttles(self):
        return [TokenRateThrottle(), BulkRateThrottle()]

    def post(self, request: Request, slug: str) -> Response:
        query = check_query(JudgmentImportQuery, request)
        study = get_or_404(team_studies(team=request.team), "study", slug=slug)
        rows = bulk_rows(request)
        JUDGMENT_ROWS.check(rows)
        result = judgments_import(study=study, rows=rows, **query)
        detail = (
            f"Nothing changed: all {result.unchanged} judgments were already imported."
            if result.changed_nothing
            else f"Imported {result.created} judgments as {result.judge_group!r}."
        )
        body = {
            "created": result.created,
            "unchanged": result.unchanged,
            "judge_group": result.judge_group,
            "imported_from": result.imported_from,
            "changed_nothing": result.changed_nothing,
            "detail": detail,
        }
        code = status.HTTP_200_OK if result.changed_nothing else status.HTTP_201_CREATED
        return Response(body, status=code)
