"""A study's raters: the crowd-quality table, exclusion and inclusion, and the Prolific
approvals (evalhub.crowd)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.errors import Conflict, PayloadTooLarge
from evalhub.api.pagination import MAX_PAGE, MAX_PAGE_SIZE
from evalhub.api.parsers import BoundedJSONParser
from evalhub.api.views.common import check_query, error_responses, get_or_404
from evalhub.crowd.selectors import SORTABLE
from evalhub.studies.models import Study


class RatersQuery(serializers.Serializer):
    sort = serializers.ChoiceField(
        choices=[f"{d}{c}" for c in SORTABLE for d in ("", "-")],
        required=False,
        help_text='a column; "-" first for descending',
    )
    flagged = serializers.BooleanField(required=False, allow_null=True, default=None)
    excluded = serializers.BooleanField(required=False, allow_null=True, default=None)
    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


@extend_schema(
    summary="A study's raters table",
    description="One row per rater (hashed ids only, shown as the rater's number): status, "
    "judgments, time on task (median, 10th percentile, share too fast), attention checks, "
    "agreement with the leave-one-out majority (plain and LIMA's tie-discounted), with each "
    "LLM judge group, left share, longest run of one choice, comments, one-coin "
    "Dawid-Skene skill (`reliability`), the tests that flag it (`flags`) with their "
    "evidence (`evidence`: {test: text}) and whether it is excluded. Paginated; `sort` by "
    "any column, filter by `flagged` / `excluded`. `excluded` (top level): raters excluded "
    "and their judgments left out of every result. `reliability_state` (top level): "
    "`current`, or `updating` / `failed` while a worker fits the one-coin model: then "
    "`reliability` is null and the spam test silent.",
    parameters=[RatersQuery],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **error_responses(400)},
)
class RaterList(APIView):
    def get(self, request: Request, slug: str) -> Response:
        from evalhub.crowd.selectors import raters_table, rows_sorted  # numpy, on demand

        query = check_query(RatersQuery, request)
        study = get_or_404(Study, "study", slug=slug)
        table = raters_table(study)
        try:
            rows = rows_sorted(
                table["raters"], sort=query.get("sort") or "rater",
                flagged=query["flagged"], excluded=query["excluded"],
            )  # fmt: skip
        except ValueError as exc:
            raise ValidationError({"sort": [str(exc).removeprefix("sort: ")]}) from None
        page = self.paginator.paginate_queryset(rows, request, view=self)
        response = self.paginator.get_paginated_response(page)
        response.data.update({k: v for k, v in table.items() if k != "raters"}, study=study.slug)
        return response

    @property
    def paginator(self) -> Any:
        if not hasattr(self, "_paginator"):
            from evalhub.api.pagination import ApiPagination

            self._paginator = ApiPagination()
        return self._paginator


class ExclusionBody(serializers.Serializer):
    raters = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False, max_length=100_000,
        help_text="rater numbers (as in the raters table)",
    )  # fmt: skip
    flagged = serializers.BooleanField(
        required=False, default=False, help_text="every rater the study's rules flag (exclude)"
    )
    reason = serializers.CharField(max_length=2000)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("raters") and not data.get("flagged"):
            # A rule across fields the schema does not state: 409, as the API does.
            raise ValidationError({"raters": ["name raters, or set flagged"]}, code="conflict")
        return data


class ExclusionResult(serializers.Serializer):
    raters = serializers.ListField(child=serializers.IntegerField())
    judgments = serializers.IntegerField()
    excluded = serializers.DictField(child=serializers.IntegerField())


class _RaterAction(APIView):
    action = ""

    def post(self, request: Request, slug: str) -> Response:
        from evalhub.crowd import services
        from evalhub.crowd.selectors import FlagsUpdating, flagged_rater_ids
        from evalhub.dashboards.selectors.reliability import excluded_counts

        body = ExclusionBody(data=request.data)
        body.is_valid(raise_exception=True)
        study = get_or_404(Study, "study", slug=slug)
        rater_ids = list(body.validated_data.get("raters") or [])
        if body.validated_data["flagged"] and self.action == "exclude":
            try:
                rater_ids += flagged_rater_ids(study)
            except FlagsUpdating as exc:
                raise Conflict(str(exc)) from None
        act = services.raters_exclude if self.action == "exclude" else services.raters_include
        try:
            outcome = act(study=study, rater_ids=sorted(set(rater_ids)),
                          reason=body.validated_data["reason"], by=request.user)  # fmt: skip
        except services.CrowdStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(
            {
                "raters": outcome.raters,
                "judgments": outcome.judgments,
                "excluded": excluded_counts(study),
            }
        )


@extend_schema(
    summary="Exclude raters",
    description="Exclude the named raters (or, with `flagged`, every flagged one) with a "
    "reason: their judgments stay in the database and exports (marked) but leave every "
    "result, and their items reopen until each has k valid judgments again. Recorded with "
    "who, when and why. 400 names an unknown rater; 409 unless the study is launched, or "
    "with `flagged` while the spam test's fit is updating (`reliability_state`).",
    request=ExclusionBody,
    responses={200: ExclusionResult, **error_responses(400, 409)},
)
class RaterExclude(_RaterAction):
    action = "exclude"


@extend_schema(
    summary="Include raters again",
    description="Undo an exclusion: the raters' judgments count again. Recorded like an "
    "exclusion. 400 names an unknown rater; 409 unless the study is launched.",
    request=ExclusionBody,
    responses={200: ExclusionResult, **error_responses(400, 409)},
)
class RaterInclude(_RaterAction):
    action = "include"


class CsvTextParser(BaseParser):
    """text/csv, at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes, as text."""

    media_type = "text/csv"

    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 2_621_440
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"the CSV is over {limit} bytes")
        try:
            return {"csv": raw.decode("utf-8")}
        except UnicodeDecodeError:
            raise ValidationError({"csv": ["not UTF-8 text"]}) from None


class ProlificBody(serializers.Serializer):
    csv = serializers.CharField(
        trim_whitespace=False,
        allow_blank=True,
        help_text="Prolific's submissions export, as CSV text",
    )


class BonusRow(serializers.Serializer):
    participant_id = serializers.CharField()
    amount = serializers.CharField()


class ProlificResult(serializers.Serializer):
    rows = serializers.IntegerField(help_text="distinct participants in the file")
    approve = serializers.ListField(child=serializers.CharField())
    reject = serializers.ListField(child=serializers.CharField())
    bonus = BonusRow(many=True)
    unmatched = serializers.ListField(child=serializers.CharField())
    csv = serializers.DictField(child=serializers.CharField(), help_text="approve, reject, bonus")


@extend_schema(
    summary="Match a Prolific submissions export",
    description='Send the export as `text/csv` (or JSON `{"csv": ...}`). Each participant '
    "id is hashed with the study's key on arrival and matched to a rating session; raw ids "
    "are never stored or logged, and appear only in this response. Answers the approve "
    "list (only submissions AWAITING REVIEW, never an excluded rater), the reject list "
    "(excluded raters with their exclusion reason, screen-outs for two failed attention "
    "checks; CSV: participant_id,rejection_category,message), the bonus "
    "list (participant_id,amount: the study's quality_rules.bonus_per_judgment x valid "
    "judgments) as lists and as CSV text, and the ids that matched no session.",
    request={"text/csv": OpenApiTypes.STR, "application/json": ProlificBody},
    responses={200: ProlificResult, **error_responses(400, 409, 413, 415)},
)
class ProlificMatch(APIView):
    parser_classes = [CsvTextParser, BoundedJSONParser]

    def post(self, request: Request, slug: str) -> Response:
        from evalhub.crowd import prolific, services

        # An empty text/csv body reaches no parser: it is an empty export (refused below).
        body = ProlificBody(data=request.data if request.data else {"csv": ""})
        body.is_valid(raise_exception=True)
        study = get_or_404(Study, "study", slug=slug)
        try:
            lists = prolific.prolific_match(study=study, text=body.validated_data["csv"])
        except services.CrowdStateError as exc:
            raise Conflict(str(exc)) from None
        return Response(
            {
                "rows": lists.rows,
                "approve": lists.approve,
                "reject": lists.reject,
                "bonus": [{"participant_id": p, "amount": a} for p, a in lists.bonus],
                "unmatched": lists.unmatched,
                "csv": {which: lists.csv(which) for which in ("approve", "reject", "bonus")},
            }
        )
