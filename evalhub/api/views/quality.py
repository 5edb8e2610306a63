"""A study's crowd-quality settings over the API: `quality_rules` (PATCH on the study)
and the gold prompts researchers write (GET / PATCH .../gold/). One service each, shared
with the workspace (evalhub.crowd.rules)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.api.pagination import MAX_PAGE, MAX_PAGE_SIZE
from evalhub.api.serializers.studies import StudySerializer
from evalhub.api.strict import (
    StrictCharField,
    StrictFloatField,
    StrictIntegerField,
    StrictSerializer,
)
from evalhub.api.views.common import error_responses, get_or_404
from evalhub.studies.models import Study
from evalhub.studies.quality_rules import RULES


def _rule_field(kind: type, low: float, high: float) -> serializers.Field:
    """A rule's API field from its row of studies.quality_rules.RULES (null: the default)."""
    if kind is Decimal:
        return StrictCharField(
            required=False, allow_null=True, max_length=12,
            help_text='Prolific bonus per valid judgment, a decimal string such as "0.05".',
        )  # fmt: skip
    field = StrictIntegerField if kind is int else StrictFloatField
    return field(required=False, allow_null=True, min_value=low, max_value=high)


# The rules a study may set, one field per rule of the table the services check with.
QualityRulesSerializer = type(
    "QualityRulesSerializer",
    (StrictSerializer,),
    {
        "__doc__": "The rules a study may set; null removes one (its default applies again).",
        "__module__": __name__,
        **{name: _rule_field(*row) for name, row in RULES.items()},
    },
)


class StudyPatchSerializer(StrictSerializer):
    # Optional, as a PATCH body's fields are: {} changes nothing.
    quality_rules = QualityRulesSerializer(required=False)


class StudyWithRulesSerializer(StudySerializer):
    """A study, with its crowd-quality rules."""

    quality_rules = serializers.JSONField(read_only=True)

    class Meta(StudySerializer.Meta):
        fields = [*StudySerializer.Meta.fields, "quality_rules"]


class GoldSerializer(StrictSerializer):
    gold = serializers.DictField(
        required=False,
        child=StrictCharField(max_length=20, allow_blank=True),
        help_text="{prompt id: expected verdict (target / tie / baseline, or fail / pass / "
        'excellent)}; "" unmarks a prompt.',
    )


@extend_schema(summary="A study", responses={200: StudyWithRulesSerializer, **error_responses()})
class StudyDetail(generics.RetrieveAPIView):
    serializer_class = StudyWithRulesSerializer

    def get_object(self) -> Study:
        return get_or_404(Study, "study", slug=self.kwargs["slug"])

    @extend_schema(
        summary="Set a study's crowd-quality rules",
        description="Merges `quality_rules` into the study's: the flags' thresholds and "
        "`bonus_per_judgment`, which the Prolific bonus list pays. A null removes a rule.",
        request=StudyPatchSerializer,
        responses={200: StudyWithRulesSerializer, **error_responses(400, 409, 413, 415)},
    )
    def patch(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        from evalhub.crowd.rules import study_quality_rules_update

        if request.stream is None:  # no body at all: the operation's body is required
            raise serializers.ValidationError({"body": ["send the fields to change"]})
        body = StudyPatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        study = self.get_object()
        rules = body.validated_data.get("quality_rules", {})
        given = {k: request.data["quality_rules"][k] for k in rules}
        study = study_quality_rules_update(study=study, rules=given, by=request.user)
        return Response(StudyWithRulesSerializer(study).data)


@extend_schema(summary="A study's gold prompts", responses={200: GoldSerializer,
                                                              **error_responses()})  # fmt: skip
class StudyGold(APIView):
    def get(self, request: Request, slug: str) -> Response:
        from evalhub.crowd.rules import study_gold_prompts

        study = get_or_404(Study, "study", slug=slug)
        return Response({"gold": study_gold_prompts(study)})

    @extend_schema(
        summary="Mark gold prompts",
        description="Marks prompts of the study's set as gold with the answer raters should "
        "give on each of their items; raters are scored on them (the raters table's "
        "gold_items flag). An unknown prompt or answer is a 409 naming the row.",
        request=GoldSerializer,
        responses={200: GoldSerializer, **error_responses(400, 409, 413, 415)},
    )
    def patch(self, request: Request, slug: str) -> Response:
        from evalhub.crowd.rules import study_gold_prompts, study_gold_prompts_update

        if request.stream is None:  # no body at all: the operation's body is required
            raise serializers.ValidationError({"body": ["send the gold prompts to change"]})
        body = GoldSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        study = get_or_404(Study, "study", slug=slug)
        study_gold_prompts_update(
            study=study, gold=body.validated_data.get("gold", {}), by=request.user
        )
        return Response({"gold": study_gold_prompts(study)})


class PageQuery(serializers.Serializer):
    """The paginator's parameters (evalhub.api.pagination), as the schema states them."""

    page = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE_SIZE)


@extend_schema(
    summary="Aggregated verdicts per item",
    description="One row per item with valid human verdicts: `item`, `prompt` (its id in "
    "the prompt set), `target` and `baseline` model slugs, `votes` per verdict, "
    "`majority` (null on a split top without a tie) and `reliability_weighted` (the "
    "default aggregate: the majority of unflagged raters, a split decided by a one-coin "
    "Dawid-Skene fit; null while `reliability_weighted_state` is `updating` or `failed`: a "
    "worker fits it, and no older fit is shown). Paginated.",
    parameters=[PageQuery],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT), **error_responses(400)},
)
class StudyItemLabels(APIView):
    def get(self, request: Request, slug: str) -> Response:
        from evalhub.api.pagination import ApiPagination
        from evalhub.dashboards.selectors.crowd_quality import item_labels  # numpy

        study = get_or_404(Study, "study", slug=slug)
        paginator = ApiPagination()
        page = paginator.paginate_queryset(item_labels(study), request, view=self)
        response = paginator.get_paginated_response(page)
        response.data.update(study=study.slug)
        return response
