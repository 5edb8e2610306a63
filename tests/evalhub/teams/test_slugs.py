"""Slugs are unique within a team: two teams may each name a study, prompt set, model,
judge, instrument, training dataset and run the same; each team's pages, API and jobs
resolve their own, and a study's crowd link names it by a code that reveals nothing of
its team."""

from __future__ import annotations

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create, user_create
from evalhub.instruments.presets import preset_data
from evalhub.instruments.services import instrument_create
from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Study
from evalhub.studies.services import study_launch
from evalhub.teams.services import team_create
from evalhub.workspace.selectors import prolific_urls
from generation.judging.services import judge_register
from generation.services import generation_job_run
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    StudyFactory,
    lab_team,
)
from training.models import TrainingDataset, TrainingRun

SAME = "same"


@pytest.fixture
def twins(alice):
    """The lab (alice) and a rival (olga), each with one object of every kind named SAME,
    told apart by their names."""
    olga = user_create(username="olga", password="olga-password-1", role="researcher")
    teams = {"lab": lab_team(), "rival": team_create(name="Rival lab", slug="rival", owner=olga)}
    studies = {}
    for key, team in teams.items():
        prompt_set = PromptSetFactory(team=team, slug=SAME, name=f"{key} set")
        model = ModelEntryFactory(team=team, slug=SAME, name=f"{key} model")
        output = OutputFactory(prompt=PromptFactory(prompt_set=prompt_set), model=model)
        assert output.model.team == team
        study = StudyFactory(
            team=team,
            slug=SAME,
            name=f"{key} study",
            kind="absolute",
            prompt_set=prompt_set,
            target_model=model,
        )
        studies[key] = study_launch(study=study)
        judge_register(team=team, slug=SAME, name=f"{key} judge", model="m",
                       base_url="http://127.0.0.1:9/v1", template="lima_pairwise")  # fmt: skip
        instrument_create(team=team, slug=SAME, data={**preset_data()["safety"],
                                                      "name": f"{key} instrument"})  # fmt: skip
        dataset = TrainingDataset.objects.create(team=team, slug=SAME, name=f"{key} dataset")
        TrainingRun.objects.create(team=team, slug=SAME, name=f"{key} run", dataset=dataset,
                                   base_model="tiny", recipe_settings={}, output_dir="/tmp/x")  # fmt: skip
    return {"teams": teams, "people": {"lab": alice, "rival": olga}, "studies": studies}


def _web(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _api(user, team) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, team=team)[1]}")
    return client


PAGES = [
    ("workspace:study", "study"),
    ("workspace:prompt_set", "set"),
    ("workspace:model", "model"),
    ("workspace:judge", "judge"),
    ("training:dataset_detail", "dataset"),
    ("training:run_detail", "run"),
]
API = [
    ("/api/v1/studies/same/", "study"),
    ("/api/v1/prompt-sets/same/", "set"),
    ("/api/v1/models/same/", "model"),
    ("/api/v1/instruments/same/", "instrument"),
]


@pytest.mark.parametrize("mine,other", [("lab", "rival"), ("rival", "lab")])
def test_each_teams_pages_and_api_resolve_their_own_object_of_a_shared_slug(twins, mine, other):
    web = _web(twins["people"][mine])
    for name, kind in PAGES:
        page = web.get(reverse(name, args=[SAME]))
        assert page.status_code == 200, name
        text = page.content.decode()
        assert f"{mine} {kind}" in text and f"{other} {kind}" not in text, name
    api = _api(twins["people"][mine], twins["teams"][mine])
    for path, kind in API:
        answer = api.get(path)
        assert answer.status_code == 200, path
        assert answer.json()["name"] == f"{mine} {kind}", path


def test_a_slug_another_team_holds_is_accepted_not_refused_as_taken(twins):
    api = _api(twins["people"]["lab"], twins["teams"]["lab"])
    rival = twins["teams"]["rival"]
    for slug in ("rival-only-set", "rival-only-model"):
        PromptSetFactory(team=rival, slug=slug)
        ModelEntryFactory(team=rival, slug=slug)
    made = api.post("/api/v1/prompt-sets/", {"slug": "rival-only-set", "prompts": [
        {"id": "a", "text": "Why?"}]}, format="json")  # fmt: skip
    assert made.status_code == 201, made.json()
    model = api.post("/api/v1/models/", {"slug": "rival-only-model", "kind": "external"},
                     format="json")  # fmt: skip
    assert model.status_code == 201, model.json()
    for Model, slug in ((PromptSet, "rival-only-set"), (ModelEntry, "rival-only-model")):
        teams = set(Model.objects.filter(slug=slug).values_list("team__slug", flat=True))
        assert teams == {"lab", "rival"}
    # Within one team a slug is still taken.
    again = api.post("/api/v1/models/", {"slug": "rival-only-model", "kind": "external",
                                         "name": "Another"}, format="json")  # fmt: skip
    assert again.status_code == 409


def test_the_database_keeps_a_slug_unique_within_a_team(twins):
    lab = twins["teams"]["lab"]
    with pytest.raises(IntegrityError), transaction.atomic():
        PromptSet.objects.create(team=lab, slug=SAME, name="again")


def test_a_job_of_one_team_uses_its_own_objects_of_a_shared_slug(twins):
    """Both teams have a model and a prompt set "same"; only the rival's outputs are all
    there, so the rival's generation job has nothing to generate (the lab's would need
    the engine, which this test does not start)."""
    rival = twins["teams"]["rival"]
    lab_set = PromptSet.objects.get(team=twins["teams"]["lab"], slug=SAME)
    PromptFactory.create_batch(3, prompt_set=lab_set)
    job = Job.objects.create(
        kind=Job.Kind.GENERATION, team=rival, params={"model": SAME, "prompt_set": SAME}
    )
    assert generation_job_run(job) == {"generated": 0, "already_present": 1, "total": 1}


def test_the_crowd_link_names_the_study_by_a_code_that_reveals_nothing_of_its_team(twins):
    study = twins["studies"]["lab"]
    link = prolific_urls(study=study, base_url="https://evalhub.test")["study_url"]
    path = link.removeprefix("https://evalhub.test").split("?")[0]
    assert path == f"/s/{study.crowd_code}/"
    assert SAME not in path and "lab" not in path.lower()
    assert len(study.crowd_code) >= 16 and study.crowd_code != twins["studies"]["rival"].crowd_code
    entered = Client().get(f"{path}?PROLIFIC_PID=p1&STUDY_ID=s&SESSION_ID=x")
    assert entered.status_code == 303 and entered["Location"] == f"/s/{study.crowd_code}/consent/"
    assert Client().get(f"/s/{SAME}/?PROLIFIC_PID=p2").status_code == 404  # slugs name nothing
    api = _api(twins["people"]["lab"], twins["teams"]["lab"])
    assert api.get("/api/v1/studies/same/").json()["crowd_code"] == study.crowd_code


@pytest.mark.django_db(transaction=True)
def test_the_migration_gives_every_existing_study_its_own_code():
    executor = MigrationExecutor(connection)
    executor.migrate([("studies", "0005_item_judgment_count_not_indexed")])
    executor.loader.build_graph()
    old = executor.loader.project_state([("studies", "0005_item_judgment_count_not_indexed")]).apps
    try:
        team = old.get_model("teams", "Team").objects.create(slug="t", name="T")
        prompt_set = old.get_model("prompts", "PromptSet").objects.create(
            team_id=team.pk, slug="ps", name="PS"
        )
        model = old.get_model("outputs", "ModelEntry").objects.create(
            team_id=team.pk, slug="m", name="M"
        )
        for slug in ("a", "b"):
            old.get_model("studies", "Study").objects.create(
                team_id=team.pk, slug=slug, name=slug, prompt_set=prompt_set, target_model=model
            )
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    codes = list(Study.objects.values_list("crowd_code", flat=True))
    assert len(codes) == 2 and all(len(c) >= 16 for c in codes) and len(set(codes)) == 2
