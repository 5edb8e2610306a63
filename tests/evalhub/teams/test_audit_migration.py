"""Upgrading to one audit log (teams 0004, audit 0002) and to a team for every job
(jobs 0004): each EditRecord becomes an event of its object's team with who, when, what and
before / after; each teamless job lands in the team of what it serves, else its requester's,
else the default team; nothing is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.evalhub.teams.test_migration import _latest, _migrate

BEFORE = [
    ("teams", "0003_one_audit_log_fields"),
    ("audit", "0001_edit_records"),
    ("jobs", "0003_team_owner"),
]


@pytest.mark.django_db(transaction=True)
def test_edit_records_and_teamless_jobs_land_in_a_team_and_nothing_is_lost():
    old = _migrate(BEFORE)
    long_ago = timezone.now() - dt.timedelta(days=30)
    try:
        User = old.get_model("auth", "User")
        Team = old.get_model("teams", "Team")
        Membership = old.get_model("teams", "Membership")
        rhea, otto = User.objects.create(username="rhea"), User.objects.create(username="otto")
        lab = Team.objects.create(slug="lab", name="Lab")
        rival = Team.objects.create(slug="rival", name="Rival")
        Membership.objects.create(user=rhea, team=lab, role="owner")
        Membership.objects.create(user=otto, team=rival, role="owner")
        prompt_set = old.get_model("prompts", "PromptSet").objects.create(
            slug="ps", name="PS", team=rival
        )
        model = old.get_model("outputs", "ModelEntry").objects.create(
            slug="m", name="M", team=rival
        )
        study = old.get_model("studies", "Study").objects.create(
            slug="s", name="S", prompt_set=prompt_set, target_model=model, team=rival
        )
        EditRecord = old.get_model("audit", "EditRecord")
        edited = EditRecord.objects.create(
            object_type="studies.study", object_id=study.pk, object_repr="s", actor=rhea,
            action="edited", before={"name": "Old"}, after={"name": "S"},
        )  # fmt: skip
        EditRecord.objects.filter(pk=edited.pk).update(at=long_ago)
        # A model deleted since: its editor's team; a program's edit of one: the default.
        EditRecord.objects.create(object_type="outputs.modelentry", object_id=999, actor=otto,
                                  object_repr="gone", action="deleted", before={"outputs": 4})  # fmt: skip
        EditRecord.objects.create(object_type="prompts.promptset", object_id=998, actor=None,
                                  object_repr="gone-too", action="renamed", after={"slug": "x"})  # fmt: skip
        old.get_model("teams", "AuditEvent").objects.create(
            team=rival, actor=otto, action="study.launch", object_type="studies.study",
            object_id="s", details={"items": 3},
        )  # fmt: skip
        Job = old.get_model("jobs", "Job")
        Job.objects.create(kind="judge", params={"study_id": study.pk})
        Job.objects.create(kind="generation", params={"prompt_set": "ps", "model": "m"})
        Job.objects.create(kind="import", requested_by=otto)
        Job.objects.create(kind="fit", params={"fit_id": 12345})
        Job.objects.create(kind="import", team=lab)
    finally:
        new = _migrate(_latest())
    lab_id, rival_id = (new.get_model("teams", "Team").objects.get(slug=s).pk
                        for s in ("lab", "rival"))  # fmt: skip
    events = new.get_model("teams", "AuditEvent").objects.order_by("id")
    rows = [(e.team_id, e.action, e.object_type, e.object_id, e.object_repr) for e in events]
    assert rows == [
        (rival_id, "study.launch", "studies.study", str(study.pk), "s"),  # by pk now
        (rival_id, "object.edit", "studies.study", str(study.pk), "s"),
        (rival_id, "object.delete", "outputs.modelentry", "999", "gone"),
        (lab_id, "object.rename", "prompts.promptset", "998", "gone-too"),
    ]
    edit = events[1]
    assert (edit.actor.username, edit.before, edit.after) == ("rhea", {"name": "Old"},
                                                              {"name": "S"})  # fmt: skip
    assert abs((edit.at - long_ago).total_seconds()) < 1  # when, kept
    assert events[2].before == {"outputs": 4} and events[3].after == {"slug": "x"}
    jobs = new.get_model("jobs", "Job").objects.order_by("id")
    assert [(j.kind, j.team_id) for j in jobs] == [
        ("judge", rival_id), ("generation", rival_id), ("import", rival_id), ("fit", lab_id),
        ("import", lab_id),
    ]  # fmt: skip
    assert not jobs.filter(team=None).exists()
