"""The join page says, before its button, which team and role a link gives, or why it no
longer works (used, expired, already a member), with the words the service refuses with."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from evalhub.teams.models import Invitation, Membership, Role
from evalhub.teams.services import invitation_create, team_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_join_page_names_the_team_and_role_then_refuses_a_used_link(alice):
    team = team_create(name="Vision lab", slug="vision", owner=alice)
    _, raw = invitation_create(team=team, by=alice, role=Role.VIEWER)
    carol = _client(UserFactory(username="carol"))
    page = carol.get(f"/teams/join/{raw}/")
    assert page.status_code == 200
    assert "Vision lab" in page.content.decode() and "as viewer" in page.content.decode()
    assert carol.post(f"/teams/join/{raw}/").status_code == 302
    dave = _client(UserFactory(username="dave"))
    used = dave.get(f"/teams/join/{raw}/")
    assert used.status_code == 410 and "has been used" in used.content.decode()
    assert 'id="join"' not in used.content.decode()
    assert not Membership.objects.filter(user__username="dave").exists()


def test_the_join_page_says_an_expired_link_has_expired(alice):
    team = team_create(name="Vision lab", slug="vision", owner=alice)
    _, raw = invitation_create(team=team, by=alice, role=Role.RESEARCHER)
    Invitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    page = _client(UserFactory()).get(f"/teams/join/{raw}/")
    assert page.status_code == 410 and "expired" in page.content.decode()
    assert _client(alice).get(f"/teams/join/{raw}/").status_code == 410
