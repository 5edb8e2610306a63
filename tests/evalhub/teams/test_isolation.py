"""The matrix: two teams, each role, a session and a token of each. Every URL of the URL
conf (from the resolver, so a new page without a rule here fails) and every operation of
the API schema gives the expected answer: another team's study, job, prompt set, model,
output, judge, instrument, training dataset or run is a 404 for every role (a viewer's write
too: the object is resolved within the team before the role is checked), a viewer's write on
the team's own a 403, a user in no team a 403, the audit log (history) is the owners', and
crowd pages stay open and say nothing of the team."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create, user_create
from evalhub.instruments.presets import preset_data
from evalhub.instruments.services import instrument_create
from evalhub.jobs.models import Job
from evalhub.studies.services import study_launch
from evalhub.teams.models import Membership, Role
from evalhub.teams.services import team_create
from generation.judging.services import judge_register
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptSetFactory,
    StudyFactory,
    lab_team,
)
from training.models import TrainingDataset, TrainingRun

# What each page answers. study: its `slug` names a study of the current team; job: its
# `job_id` a job of the current team; object: its `slug` names a prompt set, model, judge or
# instrument of the current team (with `prompt_id`, `output_id`, `prompt_set` of it);
# dataset, run: its `slug` a training dataset or run; team: a page of the current team
# (lists, forms); owner: the team's members, tokens and audit log; open: no team at all
# (crowd pages, log-in, health, the schema).
STUDY, JOB, OBJECT, DATASET, RUN = "study", "job", "object", "dataset", "run"
TEAM, OWNER, OPEN = "team", "owner", "open"
# Rules whose URL names one object of a team.
OBJECT_RULES = (STUDY, JOB, OBJECT, DATASET, RUN)
# fmt: off
RULES: dict[str, str] = {
    **dict.fromkeys(
        [
            "rating:entry",
            "rating:consent",
            "rating:rate",
            "rating:done",
            "rating:author_rate",
            "home",
            "healthz",
            "favicon",
            "accounts:login",
            "accounts:logout",
            "teams:join",
            "teams:switch",
            "api:schema",
            "api:docs",
            "api:?",
            "live:entry",
            "live:staff_entry",
            "live:consent",
            "live:chat",
            "live:send",
            "live:label",
            "live:vote",
            "live:end",
            "live:done",
        ],
        OPEN,
    ),
    **dict.fromkeys(
        [
            "accounts:tokens",
            "accounts:token_revoke",
            "jobs:list",
            "dashboards:overview",
            "dashboards:judges",
            "releases:import",
            "workspace:studies",
            "workspace:study_new",
            "workspace:study_new_plan",
            "workspace:live_study_new",
            "workspace:upload",
            "workspace:upload_import",
            "api:live-studies",
            "api:studies",
            "api:arena-battles",
            "api:release-import",
            "api:judge-runs",
            "api:judge-leaderboard",
            "api:jobs",
            "api:team",
            "training:index",
            "training:dataset_import",
            "training:recipe_new",
            "training:run_new",
            "generation:start",
            "workspace:prompt_sets",
            "workspace:models",
            "workspace:judges",
            "instruments:index",
            "api:prompt-sets",
            "api:models",
            "api:judges",
            "api:instruments",
            "api:generation-runs",
        ],
        TEAM,
    ),
    **dict.fromkeys(
        [
            "workspace:prompt_set",
            "workspace:prompt_set_edit",
            "workspace:prompt_set_delete",
            "workspace:prompt",
            "workspace:model",
            "workspace:model_outputs",
            "workspace:model_edit",
            "workspace:model_delete",
            "workspace:model_outputs_replace",
            "workspace:output",
            "workspace:judge",
            "api:prompt-set",
            "api:prompts",
            "api:outputs",
            "api:model",
            "api:instrument",
        ],
        OBJECT,
    ),
    **dict.fromkeys(
        [
            "teams:team",
            "teams:invite",
            "teams:member_role",
            "teams:member_remove",
            "teams:token_revoke",
            "api:team-tokens",
            "api:team-token-revoke",
            "api:team-audit",
            "workspace:history",
        ],
        OWNER,
    ),
    "training:dataset_detail": DATASET,
    **dict.fromkeys(
        [
            "training:run_detail",
            "training:run_live",
            "training:run_cancel",
            "training:run_select",
            "training:run_choose",
            "training:run_study",
        ],
        RUN,
    ),
    **dict.fromkeys(
        ["jobs:detail", "jobs:status", "jobs:cancel", "api:job", "api:job-cancel"], JOB
    ),
    **dict.fromkeys(
        [
            "crowd:raters",
            "crowd:action",
            "crowd:prolific",
            "crowd:rules",
            "crowd:gold",
            "dashboards:study",
            "dashboards:study_data",
            "dashboards:study_export",
            "dashboards:study_item_labels",
            "releases:study",
            "releases:download",
            "releases:card",
            "workspace:study",
            "workspace:study_monitor",
            "workspace:study_results",
            "workspace:study_preview",
            "workspace:live_study_preview",
            "workspace:study_preview_step",
            "workspace:study_judge_estimate",
            "workspace:study_judge_run",
            "workspace:study_items",
            "workspace:item",
            "workspace:study_judgments",
            "workspace:study_counted",
            "workspace:study_edit",
            "workspace:study_settings",
            "workspace:study_delete",
            "workspace:study_transition",
            "live:export",
            "api:live-study",
            "api:live-study-preview",
            "api:study",
            "api:study-gold",
            "api:study-item-labels",
            "api:study-launch",
            "api:study-close",
            "api:study-results",
            "api:study-judgments",
            "api:study-judgments-import",
            "api:study-raters",
            "api:study-raters-exclude",
            "api:study-raters-include",
            "api:study-raters-prolific",
            "api:releases",
            "api:release-archive",
        ],
        STUDY,
    ),
}
# fmt: on
# Pages where any member, a viewer too, changes their own things (their API tokens).
OWN_THINGS = {"accounts:tokens", "accounts:token_revoke"}
FILLERS = {
    "version": "1",
    "item_id": "1",
    "step": "1",
    "action": "launch",
    "fmt": "csv",
    "token": "t" * 8,
    "prompt_set": "ps",
    "prompt_id": "1",
    "output_id": "1",
    "job_id": "1",
    "digest": "d" * 128,
}


def url_patterns() -> Iterator[tuple[str, str]]:
    """(view name, route) of every page but Django's admin (staff only, no team data)."""

    def walk(patterns, prefix: str, namespace: str):
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace == "admin":
                    continue
                ns = namespace + (f"{p.namespace}:" if p.namespace else "")
                yield from walk(p.url_patterns, prefix + str(p.pattern), ns)
            elif isinstance(p, URLPattern):
                yield namespace + (p.name or "?"), prefix + str(p.pattern)

    yield from walk(get_resolver().url_patterns, "/", "")


def fill(route: str, **values: str) -> str:
    """A concrete path for a route; `values` first, then the fillers."""
    if route.startswith("/api/^"):
        return "/api/nothing-here/"

    def one(match: re.Match) -> str:
        name = match.group(2)
        return values.get(name) or FILLERS.get(name) or "x"

    return re.sub(r"<(?:(\w+):)?(\w+)>", one, route)


@pytest.fixture
def world(alice, bob):
    lab = lab_team()
    other = team_create(name="Rival lab", slug="rival", owner=user_create(
        username="olga", password="olga-password-1", role="researcher"))  # fmt: skip
    people = {"owner": alice, "nobody": bob}
    for role in (Role.RESEARCHER, Role.VIEWER):
        user = user_create(username=f"lab-{role}", password="pw-12345678", role="researcher")
        Membership.objects.create(user=user, team=lab, role=role)
        people[role] = user
    ours = StudyFactory(team=lab, slug="ours", kind="absolute")
    theirs = StudyFactory(team=other, slug="theirs", name="Theirs", kind="absolute",
                          prompt_set=PromptSetFactory(team=other),
                          target_model=ModelEntryFactory(team=other))  # fmt: skip
    for study in (ours, theirs):
        output = OutputFactory(model=study.target_model)
        output.prompt.prompt_set = study.prompt_set
        output.prompt.save()
    ours = study_launch(study=ours)
    jobs = {
        "ours": Job.objects.create(kind=Job.Kind.IMPORT, team=lab),
        "theirs": Job.objects.create(kind=Job.Kind.IMPORT, team=other),
    }
    for which, team in (("ours", lab), ("theirs", other)):
        dataset = TrainingDataset.objects.create(team=team, slug=f"{which}-data", name=which)
        TrainingRun.objects.create(team=team, slug=f"{which}-run", name=which, dataset=dataset,
                                   base_model="tiny", recipe_settings={}, output_dir="/tmp/x")  # fmt: skip
    # A prompt set (with a prompt), a model (with an output), a judge and an instrument of
    # each team, all with the slug "ours" or "theirs".
    objects = {}
    for which, team in (("ours", lab), ("theirs", other)):
        output = OutputFactory(prompt__prompt_set=PromptSetFactory(team=team, slug=which),
                               model=ModelEntryFactory(team=team, slug=which))  # fmt: skip
        judge_register(team=team, slug=which, name=which, model="m",
                       base_url="http://127.0.0.1:9/v1", template="lima_pairwise")  # fmt: skip
        instrument_create(team=team, slug=which, data=preset_data()["safety"])
        objects[which] = {"prompt_id": str(output.prompt_id), "output_id": str(output.pk)}
    return {"lab": lab, "other": other, "people": people, "ours": ours, "theirs": theirs,
            "jobs": jobs, "objects": objects}  # fmt: skip


def web(user) -> Client:
    client = Client(raise_request_exception=False)
    if user is not None:
        client.force_login(user)
    return client


def api(user, team) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user, team=team)[1]}")
    return client


def test_every_page_has_a_rule():
    names = {name for name, _ in url_patterns()}
    assert names - set(RULES) == set(), "a page without a team rule: add it to RULES"
    assert set(RULES) - names == set(), "a rule for a page that no longer exists"


def _path(world, route: str, which: str, rule: str = STUDY) -> str:
    slug = {DATASET: f"{which}-data", RUN: f"{which}-run"}.get(rule, which)
    return fill(route, slug=slug, job_id=str(world["jobs"][which].pk), prompt_set=which,
                crowd_code=world[which].crowd_code, **world["objects"][which])  # fmt: skip


def test_the_matrix_of_pages(world):
    people = world["people"]
    members = {role: web(people[role]) for role in ("owner", "researcher", "viewer")}
    nobody, anonymous = web(people["nobody"]), web(None)
    failures: list[str] = []

    def expect(what: str, status: int, allowed: set[int]) -> None:
        if status not in allowed:
            failures.append(f"{what}: {status}, expected one of {sorted(allowed)}")

    for name, route in url_patterns():
        rule = RULES[name]
        is_api = route.startswith("/api/")
        if rule in OBJECT_RULES:
            theirs = _path(world, route, "theirs", rule)
            ours = _path(world, route, "ours", rule)
            for role, client in members.items():
                if is_api:
                    client = api(people[role], world["lab"])
                expect(f"{role} GET {theirs}", client.get(theirs).status_code, {404, 405})
                # Another team's object is a 404 for every role, a viewer's write too (the
                # object is resolved before the role is checked); a body checked before the
                # lookup (400) is the same for every slug.
                posted = client.post(theirs).status_code
                expect(f"{role} POST {theirs}", posted,
                       {404, 405} if role == "viewer" else {400, 404, 405})  # fmt: skip
                expect(f"{role} GET {ours}", client.get(ours).status_code,
                       set(range(200, 500)) - {401, 403})  # fmt: skip
            viewer = api(people["viewer"], world["lab"]) if is_api else members["viewer"]
            expect(f"viewer POST {ours}", viewer.post(ours).status_code, {403, 405})
        elif rule in (TEAM, OWNER):
            path = fill(route, slug="x", job_id="1")
            for role, client in members.items():
                if is_api:
                    client = api(people[role], world["lab"])
                status = client.get(path).status_code
                refused = rule == OWNER and role != "owner"
                expect(f"{role} GET {path}", status,
                       {403} if refused else set(range(200, 500)) - {401, 403})  # fmt: skip
                if role == "viewer" and name not in OWN_THINGS:
                    expect(f"viewer POST {path}", client.post(path).status_code, {403, 405})
        else:
            continue  # open: the crowd test below
        path = _path(world, route, "ours", rule)
        expect(f"nobody GET {path}", nobody.get(path).status_code, {403, 405})
        expect(f"anonymous GET {path}", anonymous.get(path).status_code,
               {401, 403, 405} if is_api else {302, 405})  # fmt: skip
    assert not failures, "\n".join(failures)


def test_every_api_operation_of_the_schema_keeps_to_its_team(world):
    schema = SchemaGenerator().get_schema(request=None, public=True)
    people = world["people"]
    owner, viewer = api(people["owner"], world["lab"]), api(people["viewer"], world["lab"])
    failures: list[str] = []
    for template, operations in schema["paths"].items():
        for method in operations:
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            rule = RULES[resolve(fill(template.replace("{", "<").replace("}", ">"))).view_name]
            theirs = _path(world, template.replace("{", "<").replace("}", ">"), "theirs", rule)
            if rule in OBJECT_RULES:
                # Another team's study answers exactly as one that does not exist: a 404,
                # or the same 400 where the body is checked before the lookup.
                missing = fill(template.replace("{", "<").replace("}", ">"), slug="no-such",
                               job_id="999999", prompt_id="999999", output_id="999999",
                               prompt_set="no-such")  # fmt: skip
                status = getattr(owner, method)(theirs).status_code
                expected = getattr(owner, method)(missing).status_code
                if (
                    status != expected
                    or status not in (400, 404)
                    or (method == "get" and status != 404)
                ):
                    failures.append(f"owner {method} {theirs}: {status} (missing: {expected})")
            if method != "get":
                status = getattr(viewer, method)(theirs).status_code
                # Another team's object is a 404 before the viewer's write is refused.
                expected = 404 if rule in OBJECT_RULES else 403
                if status != expected:
                    failures.append(f"viewer {method} {theirs}: {status}, expected {expected}")
    assert not failures, "\n".join(failures)


def test_lists_show_only_the_current_teams_studies(world):
    owner = web(world["people"]["owner"])
    for path in ("/studies/", "/dashboards/"):
        page = owner.get(path).content.decode()
        assert "/studies/ours/" in page and "theirs" not in page, path
    listed = api(world["people"]["owner"], world["lab"]).get("/api/v1/studies/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert [row["slug"] for row in rows] == ["ours"]
    jobs = api(world["people"]["owner"], world["lab"]).get("/api/v1/jobs/").json()
    job_rows = jobs["results"] if isinstance(jobs, dict) else jobs
    assert world["jobs"]["theirs"].pk not in {row["id"] for row in job_rows}


def test_lists_and_choices_show_only_the_current_teams_objects_and_the_presets(world):
    owner = web(world["people"]["owner"])
    for path, link in [("/prompt-sets/", "/prompt-sets/{}/"), ("/models/", "/models/{}/"),
                       ("/judges/", "/judges/{}/"), ("/instruments/", "{}"),
                       ("/studies/new/", 'value="{}"'), ("/generation/", 'value="{}"')]:  # fmt: skip
        page = owner.get(path).content.decode()
        assert link.format("ours") in page and link.format("theirs") not in page, path
    assert "lima-pairwise" in owner.get("/instruments/").content.decode()
    client = api(world["people"]["owner"], world["lab"])
    for path in ("prompt-sets", "models", "judges", "instruments"):
        listed = client.get(f"/api/v1/{path}/").json()
        slugs = {row["slug"] for row in (listed["results"] if isinstance(listed, dict) else listed)}
        assert "ours" in slugs and "theirs" not in slugs, path
    assert "lima-pairwise" in slugs  # the shared presets, for every team


def test_another_teams_slugs_are_unknown_where_a_request_names_them(world):
    client = api(world["people"]["owner"], world["lab"])
    study = {"slug": "named", "name": "Named", "kind": "absolute", "prompt_set": "theirs",
             "target_model": "theirs", "judges": ["theirs"], "instrument": "theirs"}  # fmt: skip
    refused = client.post("/api/v1/studies/", study, format="json")
    assert refused.status_code == 409
    fields = {p["field"] for p in refused.json()["problems"]}
    assert {"prompt_set", "target_model"} <= fields
    run = client.post("/api/v1/judge-runs/", {"judge": "theirs", "study": "theirs"}, format="json")
    assert run.status_code == 409
    generate = {"model": "theirs", "prompt_set": "theirs"}
    assert client.post("/api/v1/generation-runs/", generate, format="json").status_code == 409


def test_what_a_member_creates_belongs_to_their_team(world):
    from evalhub.outputs.models import ModelEntry
    from evalhub.prompts.models import PromptSet
    from evalhub.studies.models import Judge

    client = api(world["people"]["researcher"], world["lab"])
    made = client.post("/api/v1/prompt-sets/", {"slug": "new-set", "prompts": [
        {"id": "a", "text": "Why?"}]}, format="json")  # fmt: skip
    assert made.status_code == 201, made.json()
    assert PromptSet.objects.get(slug="new-set").team == world["lab"]
    assert client.post("/api/v1/models/", {"slug": "new-model", "kind": "external"},
                       format="json").status_code == 201  # fmt: skip
    assert ModelEntry.objects.get(slug="new-model").team == world["lab"]
    # A slug another team holds is free in this one (slugs are unique within a team): a
    # model of this team is made, and the other team's is neither handed over nor changed.
    made = client.post("/api/v1/models/", {"slug": "theirs", "kind": "external"}, format="json")
    assert made.status_code == 201
    theirs = ModelEntry.objects.filter(slug="theirs")
    assert {m.team for m in theirs} == {world["lab"], world["other"]}
    web(world["people"]["researcher"]).post("/judges/", {
        "slug": "new-judge", "name": "J", "base_url": "http://127.0.0.1:9/v1", "model": "m",
        "template": "lima_pairwise"})  # fmt: skip
    assert Judge.objects.get(slug="new-judge").team == world["lab"]


def test_a_crowd_link_reveals_nothing_of_its_team(world):
    code = world["ours"].crowd_code  # not the slug, which is the team's naming
    page = Client().get(f"/s/{code}/?PROLIFIC_PID=p1&STUDY_ID=s&SESSION_ID=x", follow=True)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Lab" not in text and "lab" not in text.lower().replace("label", "")


def test_a_removed_members_session_loses_the_team_at_once(world):
    viewer = world["people"]["viewer"]
    client = web(viewer)
    assert client.get("/studies/ours/").status_code == 200
    Membership.objects.filter(user=viewer).delete()
    assert client.get("/studies/ours/").status_code == 403


def test_training_lists_show_only_the_current_teams(world):
    page = web(world["people"]["viewer"]).get("/training/").content.decode()
    assert "ours-data" in page and "ours-run" in page
    assert "theirs-data" not in page and "theirs-run" not in page


def test_the_history_is_the_owners_and_another_teams_is_a_404(world):
    from evalhub.audit.services import edit_record

    owner = web(world["people"]["owner"])
    for study in (world["ours"], world["theirs"]):
        edit_record(obj=study, actor=world["people"]["owner"], action="object.edit",
                    before={"name": "before"}, after={"name": study.name})  # fmt: skip
    ours = f"/history/?type=studies.study&id={world['ours'].pk}"
    theirs = f"/history/?type=studies.study&id={world['theirs'].pk}"
    page = owner.get(ours)
    assert page.status_code == 200 and "before" in page.content.decode()
    assert owner.get(theirs).status_code == 404
    assert "Theirs" not in owner.get("/history/").content.decode()
    assert web(world["people"]["researcher"]).get(ours).status_code == 403
    api_owner = api(world["people"]["owner"], world["lab"])
    url = "/api/v1/team/audit/?object_type=studies.study&object_id="
    assert api_owner.get(f"{url}{world['theirs'].pk}").status_code == 404
    rows = api_owner.get(f"{url}{world['ours'].pk}").json()["results"]
    assert {"object.edit", "study.launch"} <= {r["action"] for r in rows}
    edit = next(r for r in rows if r["action"] == "object.edit")
    assert (edit["before"], edit["actor"]) == ({"name": "before"}, "alice")
