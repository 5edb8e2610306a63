"""/api/v1/team/...: the caller's team (any member), and for its owners the team's tokens
(list, revoke) and its audit log. The team is the token's (or the session's current) team."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from evalhub.accounts.services import api_token_revoke
from evalhub.api.permissions import DocumentedQueryOnly, IsTeamMember
from evalhub.api.views.common import check_query, error_responses
from evalhub.audit.selectors import edit_records
from evalhub.teams.models import OBJECT_TYPES, Role
from evalhub.teams.selectors import team_tokens


class IsTeamOwner(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        if request.membership.role != Role.OWNER:
            raise PermissionDenied("Only the team's owners see its tokens and audit log.")
        return True


OWNERS_ONLY = [IsTeamMember, IsTeamOwner, DocumentedQueryOnly]


class TeamSerializer(serializers.Serializer):
    slug = serializers.SlugField()
    name = serializers.CharField()
    role = serializers.ChoiceField(choices=Role.choices)


class TeamTokenSerializer(serializers.Serializer):
    digest = serializers.CharField(help_text="Names the token to revoke (a hash; never the token).")
    token_key = serializers.CharField(help_text="The token's first characters, to recognise it.")
    user = serializers.CharField(source="user.username")
    created = serializers.DateTimeField()
    expiry = serializers.DateTimeField(allow_null=True)


class AuditEventSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor.username", allow_null=True, default=None)
    action = serializers.CharField()
    object_type = serializers.CharField(allow_blank=True, help_text="The model label.")
    object_id = serializers.CharField(allow_blank=True, help_text="The object's id.")
    object_repr = serializers.CharField(allow_blank=True, help_text="Its name then.")
    details = serializers.DictField()
    before = serializers.DictField(help_text="An edit: the changed fields' values before.")
    after = serializers.DictField(help_text="An edit: the changed fields' values after.")


class AuditQuery(serializers.Serializer):
    object_type = serializers.ChoiceField(
        choices=sorted(OBJECT_TYPES), required=False, help_text="One kind of object's events"
    )
    object_id = serializers.IntegerField(
        min_value=1, required=False, help_text="With object_type: one object's history"
    )


class CurrentTeam(APIView):
    @extend_schema(
        summary="The team this token (or session) works in, and the caller's role there",
        responses={200: TeamSerializer, **error_responses()},
    )
    def get(self, request: Request) -> Response:
        team = request.team
        return Response({"slug": team.slug, "name": team.name, "role": request.membership.role})


@extend_schema(
    summary="The team's API tokens that still work (owners)",
    responses={200: TeamTokenSerializer(many=True), **error_responses()},
)
class TeamTokenList(generics.ListAPIView):
    serializer_class = TeamTokenSerializer
    permission_classes = OWNERS_ONLY

    def get_queryset(self):
        return team_tokens(team=self.request.team)


class TeamTokenRevoke(APIView):
    permission_classes = OWNERS_ONLY

    @extend_schema(
        summary="Revoke one of the team's tokens (owners); it fails its next request",
        request=None,
        responses={204: None, **error_responses()},
    )
    def post(self, request: Request, digest: str) -> Response:
        if not api_token_revoke(team=request.team, by=request.user, digest=digest, as_owner=True):
            raise NotFound("No such token in this team.")
        return Response(status=204)


@extend_schema(
    summary="The team's audit log, newest first (owners)",
    description="Who launched, closed, excluded, included, edited (before and after), "
    "renamed, deleted, made or revoked a token, invited, or changed a role, when, on what, "
    "with the details. One object's history (object_type and object_id) that the team's "
    "log does not hold, another team's, is a 404.",
    parameters=[AuditQuery],
    responses={200: AuditEventSerializer(many=True), **error_responses(400)},
)
class TeamAuditLog(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    permission_classes = OWNERS_ONLY

    def get_queryset(self):
        query = check_query(AuditQuery, self.request)
        events = edit_records(
            team=self.request.team,
            object_type=query.get("object_type", ""),
            object_id=query.get("object_id"),
        )
        if "object_id" in query and "object_type" in query and not events.exists():
            raise NotFound("No history of that object in this team.")
        return events
