"""Upgrading a database of today's objects puts them all into one team, "Lab", whose owners
are today's researchers; nothing is lost, and their API tokens keep working there."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE_TEAMS = [
    ("prompts", "0001_prompt_sets_and_prompts"),
    ("outputs", "0001_models_and_outputs"),
    ("studies", "0002_edit_records_replace_study_edits"),
    ("instruments", "0002_presets"),
    ("jobs", "0002_release_import_kind"),
    ("training", "0002_lima_recipe_presets"),
    ("pipeline", "0001_pipeline_runs"),
    ("teams", None),
]


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    # The state of what is applied now (a None target, "no migration of this app", is no
    # node): every app's last applied migration.
    executor.loader.build_graph()
    applied = executor.loader.applied_migrations
    leaves = [
        max((key for key in applied if key[0] == app), default=None)
        for app in {key[0] for key in applied}
    ]
    return executor.loader.project_state([leaf for leaf in leaves if leaf]).apps


def _latest():
    executor = MigrationExecutor(connection)
    return executor.loader.graph.leaf_nodes()


@pytest.mark.django_db(transaction=True)
def test_todays_objects_upgrade_into_one_team_and_nothing_is_lost():
    old = _migrate(BEFORE_TEAMS)
    try:
        User, Group = old.get_model("auth", "User"), old.get_model("auth", "Group")
        researcher = User.objects.create(username="rhea")
        researcher.groups.add(Group.objects.get_or_create(name="researcher")[0])
        rater = User.objects.create(username="ray")
        rater.groups.add(Group.objects.get_or_create(name="rater")[0])
        prompt_set = old.get_model("prompts", "PromptSet").objects.create(slug="ps", name="PS")
        old.get_model("prompts", "Prompt").objects.create(
            prompt_set=prompt_set, external_id="p1", text="Hi?", position=0
        )
        model = old.get_model("outputs", "ModelEntry").objects.create(slug="m", name="M")
        old.get_model("studies", "Judge").objects.create(
            slug="j", name="J", model="tiny", base_url="http://x.test/v1", template="custom"
        )
        old.get_model("studies", "Study").objects.create(
            slug="s", name="S", prompt_set=prompt_set, target_model=model, created_by=researcher
        )
        Job = old.get_model("jobs", "Job")
        Job.objects.create(kind="generation", requested_by=researcher)
        Job.objects.create(kind="fit")
        old.get_model("training", "TrainingDataset").objects.create(slug="d", name="D")
        presets = old.get_model("instruments", "Instrument").objects.filter(is_preset=True).count()
        old.get_model("knox", "AuthToken").objects.create(
            user=researcher, digest="d" * 128, token_key="k" * 15
        )
    finally:
        new = _migrate(_latest())
    team = new.get_model("teams", "Team").objects.get()
    assert (team.slug, team.name) == ("lab", "Lab")
    members = new.get_model("teams", "Membership").objects.filter(team=team)
    assert [(m.user.username, m.role) for m in members] == [("rhea", "owner")]
    for app, name in [("prompts", "PromptSet"), ("outputs", "ModelEntry"), ("studies", "Judge"),
                      ("studies", "Study"), ("training", "TrainingDataset")]:  # fmt: skip
        rows = new.get_model(app, name).objects.all()
        assert [r.team_id for r in rows] == [team.pk], name
    assert new.get_model("prompts", "Prompt").objects.count() == 1
    jobs = new.get_model("jobs", "Job").objects.order_by("id")
    # Every job has a team (jobs 0004): the fit over no team's object goes to the default.
    assert [(j.kind, j.team_id) for j in jobs] == [("generation", team.pk), ("fit", team.pk)]
    Instrument = new.get_model("instruments", "Instrument")
    assert Instrument.objects.filter(is_preset=True, team=None).count() == presets
    binding = new.get_model("teams", "TeamToken").objects.get()
    assert (binding.token.user.username, binding.team_id) == ("rhea", team.pk)


@pytest.mark.django_db(transaction=True)
def test_an_empty_database_upgrades_with_no_team():
    _migrate(BEFORE_TEAMS)
    new = _migrate(_latest())
    assert not new.get_model("teams", "Team").objects.exists()
