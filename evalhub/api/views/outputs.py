"""Outputs in bulk: a JSON array or JSON Lines body handed to outputs_import as-is."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from evalhub.api.parsers import BulkRowsParser, bulk_rows
from evalhub.api.row_shapes import bulk_body_schema
from evalhub.api.rows import OUTPUT_ROWS
from evalhub.api.serializers.outputs import OutputImportResultSerializer, OutputSerializer
from evalhub.api.throttling import BulkRateThrottle, TokenRateThrottle
from evalhub.api.views.common import check_query, error_responses, get_or_404
from evalhub.outputs.models import Output
from evalhub.outputs.selectors import team_models
from evalhub.outputs.services import outputs_import
from evalhub.prompts.models import PromptSet
from evalhub.prompts.selectors import team_prompt_sets

BULK_BODY = bulk_body_schema(OUTPUT_ROWS)


class OutputQuery(serializers.Serializer):
    model = serializers.SlugField(max_length=100, required=False)


class OutputSubmitQuery(OutputQuery):
    create_missing_models = serializers.BooleanField(default=True)


class PromptSetOutputs(generics.ListAPIView):
    serializer_class = OutputSerializer
    parser_classes = [BulkRowsParser]

    def get_throttles(self):
        if self.request.method == "POST":
            return [TokenRateThrottle(), BulkRateThrottle()]
        return super().get_throttles()

    def prompt_set(self) -> PromptSet:
        return get_or_404(
            team_prompt_sets(team=self.request.team), "prompt set", slug=self.kwargs["slug"]
        )

    def get_queryset(self):
        query = check_query(OutputQuery, self.request)
        outputs = Output.objects.filter(prompt__prompt_set=self.prompt_set())
        if query.get("model"):
            outputs = outputs.filter(model__slug=query["model"])
        return outputs.select_related("model", "prompt").order_by("prompt_id", "model_id", "id")

    @extend_schema(
        summary="List a prompt set's outputs",
        parameters=[OutputQuery],
        responses={200: OutputSerializer(many=True), **error_responses(400)},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Submit outputs in bulk",
        description="The body is a JSON array of rows or JSON Lines (one row per line), up "
        "to 50,000 rows or 50 MB (413 beyond). Each row names its prompt by `prompt_id`, "
        "`external_id` or the exact `instruction` text (AlpacaEval's model_outputs.json "
        "works as it is), its model by `model` / `generator` or the `model` query "
        "parameter. A row that breaks its shape gives 400; an unknown prompt or model, a row "
        "given twice, a row with no model, or a different text for an output already there "
        "gives 409. Both name the rows, and nothing is written. 201 when outputs were "
        "added; 200 when every row was already there (`changed_nothing` true).",
        parameters=[OutputSubmitQuery],
        request=BULK_BODY,
        responses={
            201: OutputImportResultSerializer,
            200: OutputImportResultSerializer,
            **error_responses(400, 409, 413, 415),
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        query = check_query(OutputSubmitQuery, request)
        prompt_set = self.prompt_set()
        model = None
        if query.get("model"):
            model = team_models(team=request.team).filter(slug=query["model"]).first()
            if model is None:
                raise serializers.ValidationError(
                    {"model": [f"no model {query['model']!r}; register it first"]},
                    code="does_not_exist",
                )
        rows = bulk_rows(request)
        OUTPUT_ROWS.check(rows)
        result = outputs_import(
            prompt_set=prompt_set,
            rows=rows,
            model=model,
            create_missing_models=query["create_missing_models"],
        )
        if result.changed_nothing:
            detail = f"Nothing changed: all {result.unchanged} outputs were already there."
        else:
            detail = f"Added {result.created} outputs ({result.unchanged} already there)."
        body = {
            "created": result.created,
            "unchanged": result.unchanged,
            "models_created": result.models_created,
            "changed_nothing": result.changed_nothing,
            "detail": detail,
        }
        code = status.HTTP_200_OK if result.changed_nothing else status.HTTP_201_CREATED
        return Response(body, status=code)
