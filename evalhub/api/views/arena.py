"""Chatbot Arena battles in (evalhub.studies.arena_import)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.arena_rows import ARENA_ROWS
from evalhub.api.parsers import BulkRowsParser, bulk_rows
from evalhub.api.row_shapes import NOT_BLANK, bulk_body_schema
from evalhub.api.strict import SchemaPattern
from evalhub.api.throttling import BulkRateThrottle, TokenRateThrottle
from evalhub.api.views.common import check_query, error_responses
from evalhub.studies.arena_import import arena_battles_import


def _text(max_length: int, help_text: str, **kwargs) -> serializers.CharField:
    return serializers.CharField(
        max_length=max_length, trim_whitespace=False, help_text=help_text,
        validators=[SchemaPattern(NOT_BLANK, "must not be blank")], **kwargs,
    )  # fmt: skip


class ArenaImportQuery(serializers.Serializer):
    name = _text(200, "the import's name: its study and prompt set are arena-<name>")
    imported_from = _text(200, "the source's name, e.g. the file name (provenance)")
    judge_group = _text(120, 'the judge group of these judgments (default "arena")', required=False)


ArenaImportResultSerializer = inline_serializer(
    "ArenaImportResult",
    {
        "study": serializers.CharField(),
        "prompt_set": serializers.CharField(),
        "created": serializers.IntegerField(),
        "unchanged": serializers.IntegerField(),
        "models": serializers.IntegerField(),
        "raters": serializers.IntegerField(),
        "changed_nothing": serializers.BooleanField(),
        "detail": serializers.CharField(),
    },
)


@extend_schema(
    summary="Import Chatbot Arena battles",
    description="A JSON array or JSON Lines of battles in either published Arena format: "
    "`chatbot_arena_conversations` rows (question_id, model_a, model_b, winner, judge, "
    "conversation_a, conversation_b, turn, anony, language, tstamp, conv_metadata) or "
    "arena-human-preference rows (id, model_a, model_b, prompt, response_a, response_b, "
    "winner_model_a, winner_model_b, winner_tie). Each battle becomes a prompt, two outputs, "
    "an item and a judgment of the study arena-<name>; judges become raters known by a keyed "
    "hash. A row that breaks its shape gives 400; one that does not make a battle (model_a "
    "equal to model_b, a repeated question id, no assistant turn, bad style counts) gives "
    "409. Both name the line and field, and nothing is written. Battles "
    "whose question id the import already has are left as they are.",
    parameters=[ArenaImportQuery],
    request=bulk_body_schema(ARENA_ROWS),
    responses={
        201: ArenaImportResultSerializer,
        200: ArenaImportResultSerializer,
        **error_responses(400, 409, 413, 415),
    },
)
class ArenaBattleImport(APIView):
    parser_classes = [BulkRowsParser]

    def get_throttles(self):
        return [TokenRateThrottle(), BulkRateThrottle()]

    def post(self, request: Request) -> Response:
        query = check_query(ArenaImportQuery, request)
        rows = bulk_rows(request)
        ARENA_ROWS.check(rows)
        result = arena_battles_import(team=request.team, rows=rows, **query)
        detail = (
            f"Nothing changed: all {result.unchanged} battles were already imported."
            if result.changed_nothing
            else f"Imported {result.created} battles into {result.study}."
        )
        body = {**vars(result), "changed_nothing": result.changed_nothing, "detail": detail}
        code = status.HTTP_200_OK if result.changed_nothing else status.HTTP_201_CREATED
        return Response(body, status=code)
