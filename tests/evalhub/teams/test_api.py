"""/api/v1/team/...: the caller's team, and for owners its tokens and audit log."""

from __future__ import annotations

from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create
from evalhub.studies.services import study_close, study_launch
from evalhub.teams.models import Role
from tests.factories import OutputFactory, StudyFactory, UserFactory, join, lab_team


def client(user, role_team=None) -> APIClient:
    api = APIClient()
    raw = api_token_create(user=user, team=role_team or lab_team())[1]
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return api


def test_it_names_the_tokens_team_and_role(alice):
    viewer = UserFactory(username="vic")
    join(viewer, role=Role.VIEWER)
    assert client(viewer).get("/api/v1/team/").json() == {
        "slug": "lab", "name": "Lab", "role": "viewer"
    }  # fmt: skip


def test_owners_list_and_revoke_the_teams_tokens(alice):
    rob = UserFactory(username="rob")
    join(rob)
    robs = client(rob)
    owner = client(alice)
    listed = owner.get("/api/v1/team/tokens/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert sorted(row["user"] for row in rows) == ["alice", "rob"]
    rob_digest = next(row["digest"] for row in rows if row["user"] == "rob")
    assert robs.get("/api/v1/team/tokens/").status_code == 403  # researchers see none
    assert robs.post(f"/api/v1/team/tokens/{rob_digest}/revoke/").status_code == 403
    assert owner.post(f"/api/v1/team/tokens/{rob_digest}/revoke/").status_code == 204
    assert robs.get("/api/v1/team/").status_code == 401  # at once
    assert owner.post(f"/api/v1/team/tokens/{rob_digest}/revoke/").status_code == 404


def test_the_audit_log_shows_launch_and_close_to_owners(alice):
    study = StudyFactory(slug="audited", kind="absolute")
    output = OutputFactory(model=study.target_model)
    output.prompt.prompt_set = study.prompt_set
    output.prompt.save()
    study_close(study=study_launch(study=study, by=alice), by=alice)
    listed = client(alice).get("/api/v1/team/audit/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    rows = [r for r in rows if r["object_repr"] == "audited"]
    assert [(r["action"], r["actor"], r["object_id"]) for r in rows] == [
        ("study.close", "alice", str(study.pk)),
        ("study.launch", "alice", str(study.pk)),
    ]
    assert rows[1]["details"]["items"] > 0
    # One object's history, as the workspace's /history/ shows it.
    one = client(alice).get(f"/api/v1/team/audit/?object_type=studies.study&object_id={study.pk}")
    assert [r["action"] for r in one.json()["results"]] == ["study.close", "study.launch"]
    rob = UserFactory(username="rob")
    join(rob)
    assert client(rob).get("/api/v1/team/audit/").status_code == 403
