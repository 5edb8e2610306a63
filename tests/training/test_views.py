"""The training pages: researchers only, forms that call the services, the live JSON."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evalhub.jobs.models import Job
from tests.factories import lab_team
from training.models import TrainingDataset, TrainingRun, TrainingStep

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher_client(client, alice):
    client.force_login(alice)
    return client


def upload(rows):
    body = "\n".join(json.dumps(r) for r in rows).encode()
    return SimpleUploadedFile("lima.jsonl", body, content_type="application/jsonl")


def test_raters_cannot_see_training(client, bob):
    client.force_login(bob)
    assert client.get(reverse("training:index")).status_code == 403


def test_the_index_lists_the_lima_presets(researcher_client):
    page = researcher_client.get(reverse("training:index")).content.decode()
    assert "LIMA 65B" in page and "LIMA 7B" in page


def test_importing_a_dataset_shows_its_counts_and_token_lengths(researcher_client, tiny_model_dir):
    rows = [{"conversations": ["q", "a"], "source": "wikihow"},
            {"conversations": ["q", "a", "q2", "a2"], "source": "dialogue"}]  # fmt: skip
    response = researcher_client.post(
        reverse("training:dataset_import"),
        {"slug": "lima", "name": "LIMA", "file": upload(rows), "tokenizer": str(tiny_model_dir)},
    )
    assert response.status_code == 302
    page = researcher_client.get(response["Location"]).content.decode()
    assert '<strong id="example-count">2</strong>' in page
    assert "dialogue" in page and 'id="token-stats"' in page


def test_a_bad_file_is_refused_with_the_line_named(researcher_client):
    response = researcher_client.post(
        reverse("training:dataset_import"),
        {"slug": "bad", "file": upload([{"conversations": ["q", "a"]}, {"conversations": 3}])},
    )
    assert response.status_code == 200
    assert "line 2: conversations" in response.content.decode()
    assert not TrainingDataset.objects.exists()


def test_a_run_is_queued_from_the_form_and_its_live_json_has_the_curves(
    researcher_client, tiny_model_dir
):
    researcher_client.post(
        reverse("training:dataset_import"),
        {"slug": "lima", "name": "LIMA", "file": upload([{"conversations": ["q", "a"]}])},
    )
    researcher_client.get(reverse("training:index"))  # the presets exist
    from training.models import Recipe

    response = researcher_client.post(
        reverse("training:run_new"),
        {"name": "My run", "slug": "my-run", "dataset": TrainingDataset.objects.get().pk,
         "base_model": str(tiny_model_dir), "recipe": Recipe.objects.get(slug="lima-7b").pk},
    )  # fmt: skip
    assert response.status_code == 302
    run = TrainingRun.objects.get(slug="my-run")
    assert run.recipe_settings["batch_size"] == 64 and run.job.kind == Job.Kind.TRAINING
    for step in (1, 2):
        TrainingStep.objects.create(run=run, step=step, epoch=step / 2, loss=3.0 / step,
                                    lr=1e-5, tokens=100, tokens_per_s=50.0, elapsed_s=step,
                                    eta_s=10.0 - step)  # fmt: skip
    page = researcher_client.get(reverse("training:run_detail", args=["my-run"])).content.decode()
    assert (
        "vendor/plotly-strict.min.js" in page and 'id="chart-loss"' in page and "Cancel run" in page
    )
    live = researcher_client.get(reverse("training:run_live", args=["my-run"]) + "?after=1").json()
    assert live["curves"]["step"] == [2] and live["curves"]["loss"] == [1.5]
    assert live["training"]["status"] == "queued"
    researcher_client.post(reverse("training:run_cancel", args=["my-run"]))
    assert Job.objects.get(pk=run.job_id).status == Job.Status.CANCELLED


def test_plotly_is_served_from_our_own_static_files(client):
    from django.contrib.staticfiles import finders

    path = finders.find("vendor/plotly-strict.min.js")
    assert path and "plotly.js (strict" in open(path, encoding="utf-8").read(2000)


def test_the_run_page_labels_pairwise_scores_and_offers_likert_and_pairwise_judges(
    researcher_client, tiny_model_dir, tmp_path
):
    from evalhub.studies.models import Judge
    from generation.judging.services import judge_register
    from training.services import (
        checkpoint_register,
        dataset_import,
        recipe_presets_ensure,
        training_run_create,
    )

    dataset = dataset_import(slug="lima", name="LIMA", rows=[(1, {"conversations": ["q", "a"]})])
    run = training_run_create(team=lab_team(), dataset=dataset, base_model=str(tiny_model_dir),
                              recipe=recipe_presets_ensure()[0], slug="run",
                              output_dir=tmp_path / "run")  # fmt: skip
    first = checkpoint_register(run=run, epoch=1, step=2, path=tmp_path / "e1")
    second = checkpoint_register(run=run, epoch=2, step=4, path=tmp_path / "e2")
    for slug, template in [("pairs", Judge.Template.LIMA_PAIRWISE),
                           ("likert", Judge.Template.LIMA_LIKERT),
                           ("labels", Judge.Template.FAIL_PASS_EXCELLENT)]:  # fmt: skip
        judge_register(team=lab_team(), slug=slug, name=slug, model="m", base_url="http://127.0.0.1:9/v1",
                       template=template)  # fmt: skip
    url = reverse("training:run_detail", args=["run"])
    page = researcher_client.get(url).content.decode()
    assert "Dev score (mean 1\u20136)" in page
    assert ">pairs</option>" in page and ">likert</option>" in page
    assert ">labels</option>" not in page

    # What pairwise selection stores (training.services.selection.checkpoints_chain_score).
    first.dev_score, first.dev_score_n = 0.0, 0
    first.dev_score_detail = {"scale": "pairwise-vs-previous", "judge": "pairs", "reference": True}
    first.save()
    second.dev_score, second.dev_score_n = 1.2528, 4
    second.dev_score_detail = {
        "scale": "pairwise-vs-previous", "judge": "pairs", "study": "run-dev-epoch-02-vs-01",
        "previous_epoch": 1, "wins": 3, "ties": 1, "losses": 0, "swap_consistent": 3,
        "both_orders": 4,
    }  # fmt: skip
    second.save()
    TrainingRun.objects.filter(pk=run.pk).update(proposed_checkpoint=second)
    page = researcher_client.get(url).content.decode()
    assert "Dev score (log-odds chain vs the previous epoch; first = 0)" in page
    assert "Dev score (mean 1\u20136)" not in page
    assert "vs epoch 1: 3 / 1 / 0" in page and "3 of 4 pairs swap-consistent" in page
    assert ">reference<" in page
    assert "Proposed: epoch 2 (chain score 1.253" in page
