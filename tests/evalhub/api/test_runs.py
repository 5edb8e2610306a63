"""Judge runs and generation runs create jobs that wait in their Celery queues; jobs
report status, progress and errors."""

import pytest
from celery.signals import before_task_publish

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_claim, job_fail, job_progress
from evalhub.studies.models import Judge
from evalhub.studies.services import study_launch
from tests.factories import ModelEntryFactory, StudyFactory, lab_team

pytestmark = pytest.mark.django_db

JUDGE = {
    "slug": "tiny-judge",
    "model": "tiny",
    "base_url": "http://127.0.0.1:9/v1",
    "template": "lima_pairwise",
}


@pytest.fixture
def published():
    """(queue, job id) of every task message sent to the broker during the test."""
    sent: list[tuple[str, int]] = []

    def record(sender=None, body=None, routing_key=None, **kwargs):
        sent.append((routing_key, body[0][0]))

    before_task_publish.connect(record, weak=False)
    yield sent
    before_task_publish.disconnect(record)


@pytest.fixture
def launched(pair_models, eval_set):
    study = StudyFactory(slug="pw", prompt_set=eval_set, target_model=pair_models[0],
                         raters_per_item=1, attention_check_rate=0)  # fmt: skip
    study.baselines.add(pair_models[1])
    return study_launch(study=study)


def test_it_registers_a_judge_once(api):
    first = api.post("/api/v1/judges/", JUDGE, format="json")
    assert first.status_code == 201, first.json()
    assert len(first.json()["version_hash"]) == 64
    assert api.post("/api/v1/judges/", JUDGE, format="json").status_code == 200
    changed = api.post("/api/v1/judges/", {**JUDGE, "model": "other"}, format="json")
    assert changed.status_code == 409
    assert changed.json()["problems"][0]["field"] == "slug"
    assert [j["slug"] for j in api.get("/api/v1/judges/").json()["results"]] == ["tiny-judge"]


def test_a_judge_run_queues_a_judge_job(
    api, alice, launched, published, django_capture_on_commit_callbacks
):
    api.post("/api/v1/judges/", JUDGE, format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/judge-runs/", {"judge": "tiny-judge", "study": "pw"}, format="json"
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get()
    assert response["Location"] == f"/api/v1/jobs/{job.pk}/"
    assert (job.kind, job.status, job.queue, job.requested_by) == (
        "judge",
        "queued",
        "judge",
        alice,
    )
    assert job.params["study_id"] == launched.pk
    assert job.params["judge_id"] == Judge.objects.get().pk
    assert published == [("judge", job.pk)]
    # The same run again while the first waits: 409, no second job.
    again = api.post("/api/v1/judge-runs/", {"judge": "tiny-judge", "study": "pw"}, format="json")
    assert again.status_code == 409 and Job.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"judge": "nope", "study": "pw"}, 409, "judge"),
        ({"judge": "tiny-judge", "study": "nope"}, 409, "study"),
        ({"judge": "tiny-judge", "study": "pw", "budget_usd": -1}, 400, "budget_usd"),
        ({"judge": "tiny-judge", "study": "pw", "budget_usd": "1"}, 400, "budget_usd"),
        ({"judge": 7, "study": "pw"}, 400, "judge"),
    ],
)
def test_a_bad_judge_run_names_its_field(api, launched, body, status, field):
    api.post("/api/v1/judges/", JUDGE, format="json")
    response = api.post("/api/v1/judge-runs/", body, format="json")
    assert response.status_code == status
    assert response.json()["problems"][0]["field"] == field
    assert not Job.objects.exists()


def test_a_generation_run_queues_a_generation_job(
    api, eval_set, published, django_capture_on_commit_callbacks
):
    ModelEntryFactory(slug="tiny", kind="local", model_path="/models/tiny")
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            "/api/v1/generation-runs/",
            {"model": "tiny", "prompt_set": "eval", "samples": 2},
            format="json",
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get()
    assert (job.kind, job.status, job.queue) == ("generation", "queued", "generation")
    assert (job.params["model"], job.params["prompt_set"], job.params["samples"]) == (
        "tiny",
        "eval",
        2,
    )
    assert published == [("generation", job.pk)]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"model": "ext", "prompt_set": "eval"}, 409, "model"),
        ({"model": "nope", "prompt_set": "eval"}, 409, "model"),
        ({"model": "ext", "prompt_set": "nope"}, 409, "prompt_set"),
        ({"model": "ext", "prompt_set": "eval", "samples": 0}, 400, "samples"),
        ({"model": "ext", "prompt_set": "eval", "samples": "2"}, 400, "samples"),
    ],
)
def test_a_bad_generation_run_names_its_field(api, eval_set, body, status, field):
    ModelEntryFactory(slug="ext", kind="external")
    response = api.post("/api/v1/generation-runs/", body, format="json")
    assert response.status_code == status
    assert field in [p["field"] for p in response.json()["problems"]]
    assert not Job.objects.exists()


def test_a_job_reports_status_progress_and_error(api):
    job = Job.objects.create(team=lab_team(), kind="judge", queue="judge")
    url = f"/api/v1/jobs/{job.pk}/"
    assert api.get(url).json()["status"] == "queued"
    assert job_claim(job_id=job.pk)
    job_progress(job_id=job.pk, done=30, total=120, note="judging")
    body = api.get(url).json()
    assert (body["status"], body["progress_done"], body["progress_total"]) == ("running", 30, 120)
    assert (body["progress_fraction"], body["progress_note"]) == (0.25, "judging")
    job_fail(job_id=job.pk, error="RuntimeError: the endpoint went away")
    body = api.get(url).json()
    assert (body["status"], body["is_finished"]) == ("failed", True)
    assert body["error"] == "RuntimeError: the endpoint went away"


def test_jobs_are_listed_newest_first_and_filtered(api):
    first = Job.objects.create(team=lab_team(), kind="judge", queue="judge")
    second = Job.objects.create(
        team=lab_team(), kind="generation", queue="generation", status="failed"
    )
    listing = api.get("/api/v1/jobs/").json()
    assert [j["id"] for j in listing["results"]] == [second.pk, first.pk]
    assert [j["id"] for j in api.get("/api/v1/jobs/?kind=judge").json()["results"]] == [first.pk]
    assert [j["id"] for j in api.get("/api/v1/jobs/?status=failed").json()["results"]] == [
        second.pk
    ]
    bad = api.get("/api/v1/jobs/?status=lost")
    assert bad.status_code == 400 and bad.json()["problems"][0]["field"] == "status"


def test_a_queued_job_can_be_cancelled(api):
    job = Job.objects.create(team=lab_team(), kind="judge", queue="judge")
    response = api.post(f"/api/v1/jobs/{job.pk}/cancel/")
    assert response.status_code == 202
    assert response.json()["status"] == "cancelled"


def test_unknown_jobs_are_404(api):
    assert api.get("/api/v1/jobs/999999/").status_code == 404
    assert api.get(f"/api/v1/jobs/{2**70}/").status_code == 404
    assert api.post("/api/v1/jobs/999999/cancel/").status_code == 404
