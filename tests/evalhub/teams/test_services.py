"""Teams: invitations, roles, removal, the last owner, tokens and the audit log."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create, api_token_revoke
from evalhub.teams.models import AuditEvent, Invitation, Membership, Role
from evalhub.teams.selectors import membership_in, team_tokens
from evalhub.teams.services import (
    InvitationInvalid,
    LastOwnerError,
    TeamError,
    invitation_accept,
    invitation_create,
    membership_remove,
    membership_role_change,
    team_create,
)
from tests.factories import UserFactory


@pytest.fixture
def team(alice):
    return team_create(name="Vision lab", slug="vision", owner=alice)


def test_it_invites_by_a_one_time_link(team, alice):
    carol = UserFactory(username="carol")
    invitation, raw = invitation_create(team=team, by=alice, role=Role.VIEWER)
    assert raw not in invitation.token_digest  # only the hash is kept
    membership = invitation_accept(raw_token=raw, user=carol)
    assert membership.role == Role.VIEWER and membership.team == team
    dave = UserFactory(username="dave")
    with pytest.raises(InvitationInvalid, match="unknown or has been used"):
        invitation_accept(raw_token=raw, user=dave)
    assert membership_in(user=dave, team_id=team.pk) is None


def test_an_expired_invitation_is_refused(team, alice):
    _, raw = invitation_create(team=team, by=alice, role=Role.RESEARCHER)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    with pytest.raises(InvitationInvalid, match="expired"):
        invitation_accept(raw_token=raw, user=UserFactory())


def test_a_member_cannot_join_twice(team, alice):
    _, raw = invitation_create(team=team, by=alice, role=Role.VIEWER)
    with pytest.raises(InvitationInvalid, match="already a member"):
        invitation_accept(raw_token=raw, user=alice)
    assert Membership.objects.get(user=alice, team=team).role == Role.OWNER


def test_the_last_owner_cannot_be_demoted_or_removed(team, alice):
    with pytest.raises(LastOwnerError, match="at least one owner"):
        membership_role_change(team=team, by=alice, user=alice, role=Role.VIEWER)
    with pytest.raises(LastOwnerError):
        membership_remove(team=team, by=alice, user=alice)
    carol = UserFactory(username="carol")
    Membership.objects.create(user=carol, team=team, role=Role.OWNER)
    membership_role_change(team=team, by=carol, user=alice, role=Role.VIEWER)
    with pytest.raises(LastOwnerError):
        membership_remove(team=team, by=carol, user=carol)
    assert list(Membership.objects.filter(team=team, role=Role.OWNER)) == [
        Membership.objects.get(user=carol, team=team)
    ]


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(alice):
    team = team_create(name="Race", slug="race", owner=alice)
    carol = UserFactory(username="carol")
    Membership.objects.create(user=carol, team=team, role=Role.OWNER)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def demote(by, user) -> None:
        try:
            barrier.wait()
            membership_role_change(team=team, by=by, user=user, role=Role.RESEARCHER)
            outcomes.append("ok")
        except LastOwnerError:
            outcomes.append("refused")
        finally:
            connection.close()  # this thread's own connection

    threads = [
        threading.Thread(target=demote, args=(alice, carol)),
        threading.Thread(target=demote, args=(carol, alice)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "refused"]
    assert Membership.objects.filter(team=team, role=Role.OWNER).count() == 1


def test_a_removed_members_token_stops_at_once(team, alice):
    carol = UserFactory(username="carol")
    Membership.objects.create(user=carol, team=team, role=Role.RESEARCHER)
    _, raw = api_token_create(user=carol, team=team)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert client.get("/api/v1/studies/").status_code == 200
    membership_remove(team=team, by=alice, user=carol)
    assert client.get("/api/v1/studies/").status_code == 401  # the token is gone
    assert not AuthToken.objects.filter(user=carol).exists()


def test_a_role_change_counts_on_the_next_request(team, alice):
    carol = UserFactory(username="carol")
    Membership.objects.create(user=carol, team=team, role=Role.RESEARCHER)
    _, raw = api_token_create(user=carol, team=team)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    body = {"slug": "x", "name": "X", "kind": "pairwise", "prompt_set": "nope",
            "target_model": "nope", "baselines": []}  # fmt: skip
    assert client.post("/api/v1/studies/", body, format="json").status_code in (400, 409)
    membership_role_change(team=team, by=alice, user=carol, role=Role.VIEWER)
    refused = client.post("/api/v1/studies/", body, format="json")
    assert refused.status_code == 403 and "viewer" in refused.json()["detail"]
    assert client.get("/api/v1/studies/").status_code == 200  # reads still work


def test_a_token_works_in_its_own_team_only(team, alice):
    other = team_create(name="Other", slug="other", owner=UserFactory(username="olga"))
    with pytest.raises(ValueError, match="not a member"):
        api_token_create(user=alice, team=other)
    token, _ = api_token_create(user=alice, team=team)
    assert list(team_tokens(team=team)) == [token]
    assert list(team_tokens(team=other)) == []


def test_owners_revoke_any_token_of_the_team_members_only_their_own(team, alice):
    carol = UserFactory(username="carol")
    Membership.objects.create(user=carol, team=team, role=Role.RESEARCHER)
    mine, _ = api_token_create(user=alice, team=team)
    assert not api_token_revoke(team=team, by=carol, digest=mine.digest)
    theirs, _ = api_token_create(user=carol, team=team)
    assert api_token_revoke(team=team, by=alice, digest=theirs.digest, as_owner=True)
    assert list(team_tokens(team=team)) == [mine]


def test_the_audit_log_records_who_did_what(team, alice):
    carol = UserFactory(username="carol")
    _, raw = invitation_create(team=team, by=alice, role=Role.RESEARCHER)
    invitation_accept(raw_token=raw, user=carol)
    membership_role_change(team=team, by=alice, user=carol, role=Role.VIEWER)
    token, _ = api_token_create(user=carol, team=team)
    api_token_revoke(team=team, by=alice, digest=token.digest, as_owner=True)
    membership_remove(team=team, by=alice, user=carol)
    log = [(e.action, e.actor.username) for e in AuditEvent.objects.filter(team=team)]
    assert log == [
        ("member.remove", "alice"),
        ("token.revoke", "alice"),
        ("token.create", "carol"),
        ("member.role", "alice"),
        ("member.join", "carol"),
        ("member.invite", "alice"),
        ("team.create", "alice"),
    ]
    role = AuditEvent.objects.get(team=team, action="member.role")
    assert role.details == {"user": "carol", "from": "researcher", "to": "viewer"}


def test_an_unknown_role_is_refused(team, alice):
    with pytest.raises(ValueError):
        invitation_create(team=team, by=alice, role="admin")
    with pytest.raises(TeamError, match="not a member"):
        membership_role_change(team=team, by=alice, user=UserFactory(), role=Role.VIEWER)
