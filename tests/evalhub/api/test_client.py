"""A typed client generated from the live schema with openapi-python-client runs the
README's walkthrough against a real server (gunicorn): prompt set, model, outputs in two
formats, study, launch, imported judgments, results, close; a live battle; a release archive
uploaded and imported. The generated code lives in a temporary folder only."""

from __future__ import annotations

import importlib
import io
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from evalhub.accounts.services import api_token_create
from tests.factories import lab_team

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def client_package(api_server, tmp_path) -> str:
    """Generates `evalhub_client` from /api/schema/ into tmp_path and makes it importable."""
    schema = tmp_path / "schema.yaml"
    schema.write_bytes(requests.get(f"{api_server}/api/schema/", timeout=120).content)
    generator = Path(sys.executable).parent / "openapi-python-client"
    run = subprocess.run(
        [str(generator), "generate", "--path", str(schema), "--meta", "none",
         "--output-path", str(tmp_path / "evalhub_client")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    yield "evalhub_client"
    sys.path.remove(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("evalhub_client")]:
        del sys.modules[name]


def test_the_readme_walkthrough_runs_with_a_generated_client(api_server, client_package, alice):
    def load(name: str):
        return importlib.import_module(f"{client_package}.{name}")

    models = load("models")
    prompt_sets_create = load("api.prompt_sets.prompt_sets_create")
    outputs_create = load("api.prompt_sets.prompt_sets_outputs_create")
    models_create = load("api.models.models_create")
    judges_create = load("api.judges.judges_create")
    studies_create = load("api.studies.studies_create")
    launch = load("api.studies.studies_launch_create")
    judgments_import = load("api.studies.studies_judgments_import_create")
    results = load("api.studies.studies_results_retrieve")
    close = load("api.studies.studies_close_create")

    token = api_token_create(team=lab_team(), user=alice)[1]
    client = load("client").AuthenticatedClient(base_url=api_server, token=token, prefix="Token")

    # 2. A prompt set with its prompts.
    response = prompt_sets_create.sync_detailed(client=client, body=models.PromptSetCreateRequest(
        slug="demo", name="Demo prompts", prompts=[
            models.PromptRowPlain(id="q1", text="How do I boil an egg?", category="advice"),
            models.PromptRowPlain(id="q2", text="Write a haiku about the sea.",
                                  category="creative"),
        ]))  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.parsed.prompt_count == 2

    # 3. Two models' outputs: ours by external id, AlpacaEval's by instruction text.
    model = models.ExternalModelRegisterRequest(
        slug="my-model", kind=models.ExternalModelRegisterKindEnum.EXTERNAL
    )
    assert models_create.sync_detailed(client=client, body=model).status_code == 201
    response = outputs_create.sync_detailed("demo", client=client, model="my-model", body=[
        models.OutputRowByExternalId(external_id="q1",
                                     output="Put it in boiling water for 7 minutes."),
        models.OutputRowByExternalId(external_id="q2", output="Grey waves fold and fold / ..."),
    ])  # fmt: skip
    assert response.status_code == 201 and response.parsed.created == 2, response.content
    alpaca = [
        models.OutputRowAlpacaEval(instruction="How do I boil an egg?", output="Boil it.",
                                   generator="Baseline 7B"),
        models.OutputRowAlpacaEval(instruction="Write a haiku about the sea.",
                                   output="Sea. Blue.", generator="Baseline 7B"),
    ]  # fmt: skip
    response = outputs_create.sync_detailed("demo", client=client, body=alpaca)
    assert response.status_code == 201 and response.parsed.models_created == ["baseline-7b"]
    again = outputs_create.sync_detailed("demo", client=client, body=alpaca)
    assert again.status_code == 200 and again.parsed.changed_nothing is True
    unknown = outputs_create.sync_detailed("demo", client=client, model="my-model", body=[
        models.OutputRowByExternalId(external_id="q9", output="?")
    ])  # fmt: skip
    assert unknown.status_code == 409
    assert [(p.row, p.field) for p in unknown.parsed.problems] == [(1, "external_id")]

    # 4. A pairwise study, launched.
    response = studies_create.sync_detailed(client=client, body=models.PairwiseStudyCreateRequest(
        slug="demo-study", name="Demo", kind=models.PairwiseStudyCreateKindEnum.PAIRWISE,
        prompt_set="demo", target_model="my-model", baselines=["baseline-7b"],
        raters_per_item=3,
    ))  # fmt: skip
    assert response.status_code == 201, response.content
    response = launch.sync_detailed("demo-study", client=client)
    assert response.status_code == 200 and response.parsed.status == "launched"
    assert response.parsed.item_count == 2

    # 5. A judge registered; judgments made elsewhere imported under a named group.
    judge = models.OneSampleJudgeRegisterRequest(
        slug="tiny-judge", model="tiny", base_url="http://127.0.0.1:8001/v1",
        template=models.OneSampleJudgeRegisterTemplateEnum.LIMA_PAIRWISE,
    )  # fmt: skip
    assert judges_create.sync_detailed(client=client, body=judge).status_code == 201
    verdict = models.JudgmentRowByExternalIdVerdict
    response = judgments_import.sync_detailed("demo-study", client=client, judge_group="crowd",
        imported_from="walkthrough", body=[
            models.JudgmentRowByExternalId(external_id="q1", baseline="baseline-7b",
                                           verdict=verdict.TARGET),
            models.JudgmentRowByExternalId(external_id="q2", baseline="baseline-7b",
                                           verdict=verdict.TIE),
        ])  # fmt: skip
    assert response.status_code == 201 and response.parsed.created == 2, response.content

    # 6. Results, then close.
    response = results.sync_detailed("demo-study", client=client)
    assert response.status_code == 200
    (crowd,) = response.parsed.additional_properties["pairwise"]
    assert (crowd["judge_group"], crowd["wins"], crowd["ties"]) == ("crowd", 1, 1)
    response = close.sync_detailed("demo-study", client=client)
    assert response.status_code == 200 and response.parsed.status == "closed"


def test_a_live_battle_is_created_launched_and_closed_with_a_generated_client(
    api_server, client_package, alice
):
    from evalhub.outputs.models import ModelEntry

    def load(name: str):
        return importlib.import_module(f"{client_package}.{name}")

    for slug in ("alpha", "beta"):  # registered endpoints (no server needed to create)
        ModelEntry.objects.create(team=lab_team(), slug=slug, name=slug.title(), kind=ModelEntry.Kind.API,
                                  base_url="http://127.0.0.1:9/v1", model_path=slug)  # fmt: skip
    models = load("models")
    token = api_token_create(team=lab_team(), user=alice)[1]
    client = load("client").AuthenticatedClient(base_url=api_server, token=token, prefix="Token")

    body = models.LiveBattleCreateRequest(
        mode=models.LiveBattleCreateModeEnum.BATTLE, slug="arena", name="Arena",
        models=["alpha", "beta"], max_turns=2, session_quota=3, max_tokens=64,
        blocklist=["forbidden"], completion_code="C0DE",
    )  # fmt: skip
    response = load("api.live_studies.live_studies_create").sync_detailed(client=client, body=body)
    assert response.status_code == 201, response.content
    assert response.parsed.status == "draft" and response.parsed.live.mode == "battle"
    assert response.parsed.monitor.conversations_finished == 0

    launch = load("api.studies.studies_launch_create")
    assert launch.sync_detailed("arena", client=client).parsed.status == "launched"
    read = load("api.live_studies.live_studies_retrieve").sync_detailed("arena", client=client)
    assert read.status_code == 200 and read.parsed.live.blocklist == ["forbidden"]
    bad = models.LiveConversationCreateRequest(
        mode=models.LiveConversationCreateModeEnum.CONVERSATION, slug="arena", name="Again",
        models=["alpha"],
    )  # fmt: skip
    again = load("api.live_studies.live_studies_create").sync_detailed(client=client, body=bad)
    assert again.status_code == 409 and b"already exists" in again.content  # a taken slug
    close = load("api.studies.studies_close_create")
    assert close.sync_detailed("arena", client=client).parsed.status == "closed"


def test_a_custom_question_live_battle_is_previewed_voted_and_read_with_a_generated_client(
    api_server, client_package, alice, vllm_server
):
    """The researcher's whole live battle through the client: a custom pairwise question,
    the study asking it, a preview with the real models (the real `vllm serve`), launch;
    two participants battle (their pages are not the API); the results give each choice's
    share and Bradley-Terry with intervals."""
    from evalhub.live.models import Conversation
    from evalhub.live.services import battle_vote, conversation_start, live_session_consent
    from evalhub.live.turns import turn_finish, turn_open
    from evalhub.outputs.models import ModelEntry
    from evalhub.rating.services import session_start_crowd
    from evalhub.studies.models import Study

    def load(name: str):
        return importlib.import_module(f"{client_package}.{name}")

    for slug, served in (("alpha", "tiny"), ("beta", "tiny-b")):
        ModelEntry.objects.create(team=lab_team(), slug=slug, name=slug.title(), kind=ModelEntry.Kind.API,
                                  base_url=vllm_server, model_path=served,
                                  generation_config={"max_tokens": 16})  # fmt: skip
    models = load("models")
    token = api_token_create(team=lab_team(), user=alice)[1]
    client = load("client").AuthenticatedClient(base_url=api_server, token=token, prefix="Token")
    question = models.InstrumentRequestRequest.from_dict({
        "slug": "kinder", "name": "Kinder answer", "kind": "pairwise",
        "question": "Which answer is kinder?",
        "choices": [{"key": 1, "value": "left", "label": "The left one", "side": "A"},
                    {"key": 2, "value": "same", "label": "Equally kind", "side": "tie"},
                    {"key": 3, "value": "right", "label": "The right one", "side": "B"}],
    })  # fmt: skip
    made = load("api.instruments.instruments_create").sync_detailed(client=client, body=question)
    assert made.status_code == 201, made.content
    body = models.LiveBattleCreateRequest.from_dict({
        "mode": "battle", "slug": "kind-arena", "name": "Kind arena", "models": ["alpha", "beta"],
        "max_turns": 1, "session_quota": 1, "instrument": "kinder",
    })  # fmt: skip
    created = load("api.live_studies.live_studies_create").sync_detailed(client=client, body=body)
    assert created.status_code == 201, created.content
    preview = load("api.live_studies.live_studies_preview_create")
    said = preview.sync_detailed(
        "kind-arena", client=client, body=models.LivePreviewMessageRequest(text="Say hello.")
    )
    assert said.status_code == 200, said.content
    assert [(a.side, a.error) for a in said.parsed.answers] == [("A", ""), ("B", "")]
    assert all(a.text and a.html for a in said.parsed.answers)
    for secret in (b"alpha", b"beta", b"tiny", vllm_server.encode()):
        assert secret not in said.content  # anonymous, as the raters will see them
    refused = preview.sync_detailed(
        "kind-arena", client=client, body=models.LivePreviewMessageRequest(text="x" * 5000)
    )
    assert refused.status_code == 409 and b"limit is 4,000" in refused.content
    assert not Conversation.objects.exists()  # a preview records nothing
    launch = load("api.studies.studies_launch_create")
    assert launch.sync_detailed("kind-arena", client=client).parsed.status == "launched"

    study = Study.objects.get(slug="kind-arena")
    for pid, winner in (("p-one", "alpha"), ("p-two", "beta")):  # one win each
        session = live_session_consent(session=session_start_crowd(study=study, participant_id=pid))
        battle = conversation_start(session=session)
        for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                                token=battle.token, text="Say something kind."):  # fmt: skip
            turn_finish(turn_id=opened.turn_id, text=f"Kind words {opened.side}", provenance={})
        choice = "left" if battle.left.slug == winner else "right"
        battle_vote(session=session, token=battle.token, choice=choice)
    assert Conversation.objects.filter(study=study, status="finished").count() == 2

    response = load("api.studies.studies_results_retrieve").sync_detailed(
        "kind-arena", client=client
    )
    assert response.status_code == 200, response.content
    results = response.parsed.additional_properties
    assert results["instrument"]["slug"] == "kinder" and results["n_judgments"] == 2
    board = {row["model"]: row for row in results["leaderboard"]["models"]}
    assert set(board) == {"alpha", "beta"}
    for row in board.values():
        assert row["n_battles"] == 2 and row["lower"] <= row["upper"]
    assert board["alpha"]["rating"] == pytest.approx(board["beta"]["rating"])  # 1 win each
    (shares,) = results["choices"]
    assert {r["value"] for r in shares["shares"]} == {"left", "same", "right"}
    assert sum(r["count"] for r in shares["shares"]) == 2


@pytest.mark.worker
def test_a_release_archive_is_imported_with_a_generated_client(
    api_server, client_package, alice, celery_worker, settings, tmp_path
):
    from evalhub.dashboards.selectors import study_results
    from evalhub.releases.services import release_build, release_publish
    from evalhub.studies.models import Study
    from tests.evalhub.releases.conftest import build_published_study
    from tests.support import wait_until

    def load(name: str):
        return importlib.import_module(f"{client_package}.{name}")

    settings.RELEASES_DIR = tmp_path / "releases"
    published = build_published_study("pub-study", alice)
    release = release_build(release=release_publish(study=published.study))
    models, types = load("models"), load("types")
    releases_import = load("api.releases.releases_import_create")
    job_read = load("api.jobs.jobs_retrieve")
    token = api_token_create(team=lab_team(), user=alice)[1]
    client = load("client").AuthenticatedClient(base_url=api_server, token=token, prefix="Token")

    def upload(payload: bytes, name: str, slug: str):
        archive = types.File(payload=io.BytesIO(payload), file_name=name,
                             mime_type="application/zip")  # fmt: skip
        body = models.ReleaseImportRequest(archive=archive, slug=slug)
        return releases_import.sync_detailed(client=client, body=body)

    response = upload(release.archive_path.read_bytes(), release.archive_name, "reviewer-copy")
    assert response.status_code == 202, response.content
    assert response.parsed.kind == models.JobKindEnum.RELEASE_IMPORT
    job = wait_until(lambda: (j := job_read.sync(response.parsed.id, client=client)).is_finished
                     and j, timeout=120)  # fmt: skip
    assert job.status == models.JobStatusEnum.SUCCEEDED, job.error
    copy = Study.objects.get(slug="reviewer-copy")
    assert study_results(copy)["pairwise"] == study_results(published.study)["pairwise"]

    refused = upload(b"not a zip", "notes.zip", "another-copy")
    assert refused.status_code == 409
    assert isinstance(refused.parsed, models.Error)
    assert [(p.field, p.message) for p in refused.parsed.problems] == [
        ("archive", "not a zip archive")
    ]
    taken = upload(release.archive_path.read_bytes(), release.archive_name, "reviewer-copy")
    assert taken.status_code == 409 and taken.parsed.problems[0].field == "slug"
