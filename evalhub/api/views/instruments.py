"""Instruments: list (presets and custom ones), create, read, edit
(evalhub.instruments.services)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from evalhub.api.serializers.instruments import (
    InstrumentEditSerializer,
    InstrumentRequestSerializer,
    InstrumentSerializer,
)
from evalhub.api.views.common import error_responses
from evalhub.instruments.definitions import DefinitionError
from evalhub.instruments.selectors import instrument_latest, instrument_list
from evalhub.instruments.services import instrument_create, instrument_update

_CONTENT = ("kind", "name", "intro", "question", "choices", "levels", "comment", "gold_choice",
            "judge_template", "credit")  # fmt: skip


def _field_errors(exc: DefinitionError) -> serializers.ValidationError:
    # The request was well-formed (the serializer checked its types); the definition's
    # rules across fields refuse it: 409, as everywhere in the API.
    return serializers.ValidationError(
        {field: [message] for field, message in exc.errors.items()}, code="conflict"
    )


def _content(data: Any) -> dict[str, Any]:
    return {name: data[name] for name in _CONTENT if name in data}


class InstrumentListCreate(generics.ListAPIView):
    serializer_class = InstrumentSerializer

    def get_queryset(self):
        return instrument_list(team=self.request.team)

    @extend_schema(
        summary="List instruments (newest version of each; presets first)",
        responses={200: InstrumentSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Create a custom instrument",
        description="kind: pairwise (choices map to side A / B / tie with a weight), "
        "absolute (choices are the stored labels) or scale (choices carry a score). At most "
        "9 choices, keys 1-9, no duplicates; a pairwise instrument needs both sides.",
        request=InstrumentRequestSerializer,
        responses={201: InstrumentSerializer, **error_responses(400, 409, 413, 415)},
    )
    def post(self, request: Request) -> Response:
        InstrumentRequestSerializer(data=request.data).is_valid(raise_exception=True)
        data = request.data
        slug = data["slug"]
        try:
            instrument = instrument_create(
                team=request.team, slug=slug, data=_content(data), by=request.user
            )
        except DefinitionError as exc:
            raise _field_errors(exc) from exc
        return Response(
            InstrumentSerializer(instrument).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": f"/api/v1/instruments/{instrument.slug}/"},
        )


class InstrumentDetail(generics.RetrieveAPIView):
    serializer_class = InstrumentSerializer

    def get_object(self):
        found = instrument_latest(team=self.request.team, slug=self.kwargs["slug"])
        if found is None:
            raise NotFound(f"No instrument {self.kwargs['slug']!r}.")
        return found

    @extend_schema(summary="An instrument (newest version)",
                   responses={200: InstrumentSerializer, **error_responses()})  # fmt: skip
    def get(self, request: Request, *args, **kwargs) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Edit an instrument",
        description="A version that a launched study uses never changes: the edit is saved "
        "as a new version (answered with 201); otherwise it is edited in place (200).",
        request=InstrumentEditSerializer,
        responses={
            200: InstrumentSerializer,
            201: InstrumentSerializer,
            **error_responses(400, 409, 413, 415),
        },
    )
    def patch(self, request: Request, *args, **kwargs) -> Response:
        current = self.get_object()
        if current.is_preset:
            raise PermissionDenied("Presets are shared by every team and read-only.")
        if request.stream is None:  # no body at all: the operation's body is required
            raise serializers.ValidationError({"body": ["send the fields to change"]})
        InstrumentEditSerializer(data=request.data, partial=True).is_valid(raise_exception=True)
        data = request.data
        try:
            edited = instrument_update(instrument=current, data=_content(data), by=request.user)
        except DefinitionError as exc:
            raise _field_errors(exc) from exc
        code = status.HTTP_201_CREATED if edited.pk != current.pk else status.HTTP_200_OK
        return Response(InstrumentSerializer(edited).data, status=code)
