"""manage.py create_team: a team and its first owner."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from evalhub.teams.models import Membership, Role


def test_it_creates_a_team_owned_by_its_first_member(alice):
    call_command("create_team", "vision", "--name", "Vision lab", "--owner", "alice")
    membership = Membership.objects.get(team__slug="vision")
    assert (membership.user, membership.role, membership.team.name) == (
        alice, Role.OWNER, "Vision lab"
    )  # fmt: skip
    with pytest.raises(CommandError, match="a team 'vision' exists already"):
        call_command("create_team", "vision", "--owner", "alice")
    with pytest.raises(CommandError, match="no user 'nobody'"):
        call_command("create_team", "other", "--owner", "nobody")
