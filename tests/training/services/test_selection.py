"""Checkpoint selection: propose the best mean dev score, let a researcher accept or pick,
put the chosen checkpoint in a study. The end-to-end test runs every real piece."""

import json

import pytest

from evalhub.importing import InputError, parse_rows
from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.studies.models import Judge, Judgment, Study
from tests.factories import ModelEntryFactory, PromptFactory, PromptSetFactory
from tests.support import wait_until
from training.models import Checkpoint
from training.services import (
    checkpoint_choose,
    checkpoint_proposal_accept,
    checkpoint_register,
    checkpoint_selection_start,
    chosen_checkpoint_study_create,
    dataset_import,
    recipe_presets_ensure,
    training_run_create,
)
from training.services.selection import best_checkpoint


def make_run(tiny_model_dir, tmp_path, conversations, slug="run"):
    rows = parse_rows("\n".join(json.dumps({"conversations": c}) for c in conversations))
    dataset = dataset_import(slug=f"{slug}-data", name="data", rows=rows)
    [lima_65b, _] = recipe_presets_ensure()
    return training_run_create(
        dataset=dataset, base_model=str(tiny_model_dir), recipe=lima_65b,
        overrides={"epochs": 2, "batch_size": 4, "save_epochs": [1, 2]},
        slug=slug, output_dir=tmp_path / slug,
    )  # fmt: skip


def test_the_best_mean_is_proposed_and_a_tie_goes_to_the_earlier_epoch():
    def c(epoch, score):
        return Checkpoint(epoch=epoch, dev_score=score)

    assert best_checkpoint([c(5, 3.1), c(6, 4.2), c(7, 3.9)]).epoch == 6
    assert best_checkpoint([c(5, 4.0), c(6, 4.0)]).epoch == 5
    assert best_checkpoint([c(5, None), c(6, 2.0)]).epoch == 6
    assert best_checkpoint([c(5, None)]) is None


@pytest.mark.django_db
def test_a_researcher_accepts_the_proposal_or_picks_another_and_starts_a_study(
    tiny_model_dir, tmp_path, conversations, alice
):
    run = make_run(tiny_model_dir, tmp_path, conversations)
    first = checkpoint_register(run=run, epoch=5, step=10, path=tmp_path / "e5")
    second = checkpoint_register(run=run, epoch=6, step=12, path=tmp_path / "e6")
    assert checkpoint_register(run=run, epoch=6, step=12, path=tmp_path / "e6") == second
    with pytest.raises(InputError, match="no proposal"):
        checkpoint_proposal_accept(run=run, by=alice)
    run.proposed_checkpoint = second
    run.save()
    assert checkpoint_proposal_accept(run=run, by=alice).chosen_checkpoint == second
    assert checkpoint_choose(run=run, checkpoint=first, by=alice).chosen_checkpoint == first
    other = make_run(tiny_model_dir, tmp_path, conversations, slug="other")
    with pytest.raises(InputError, match="is not from run"):
        checkpoint_choose(run=other, checkpoint=first)
    baseline = ModelEntryFactory(slug="alpaca")
    study = chosen_checkpoint_study_create(
        run=run, slug="lima-vs-alpaca", name="", prompt_set=PromptSetFactory(),
        baselines=[baseline], by=alice,
    )  # fmt: skip
    assert study.target_model == first.model and study.status == Study.Status.DRAFT
    assert list(study.baselines.all()) == [baseline]


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.vllm
def test_end_to_end_train_register_generate_judge_and_propose(
    training_worker, generation_worker, celery_worker, vllm_server, tiny_model_dir, tmp_path,
    conversations,
):  # fmt: skip
    from generation.judging.services import judge_register

    run = make_run(tiny_model_dir, tmp_path, conversations, slug="e2e")
    trained = wait_until(lambda: _finished(run.job_id), timeout=300)
    assert trained.status == Job.Status.SUCCEEDED, trained.error
    assert sorted(run.checkpoints.values_list("epoch", flat=True)) == [1, 2]

    dev = PromptSetFactory(slug="dev")
    for i in range(2):
        PromptFactory(prompt_set=dev, external_id=f"dev{i}", text=f"Dev question {i}?")
    judge = judge_register(
        slug="tiny-likert", name="Tiny Likert", model="tiny", base_url=vllm_server,
        template=Judge.Template.LIMA_LIKERT, params={"seed": 0},
    )  # fmt: skip
    job = checkpoint_selection_start(run=run, prompt_set=dev, judge=judge,
                                     generation_overrides={"max_tokens": 16})  # fmt: skip
    selected = wait_until(lambda: _finished(job.pk), timeout=900, interval=1)
    assert selected.status == Job.Status.SUCCEEDED, selected.error

    run.refresh_from_db()
    checkpoints = list(run.checkpoints.order_by("epoch"))
    for c in checkpoints:
        assert Output.objects.filter(model=c.model, prompt__prompt_set=dev).count() == 2
        scores = Judgment.objects.filter(judge=judge, item__study__target_model=c.model)
        assert c.dev_score_n == 2, (
            c.dev_score_detail,
            list(scores.values("parse_state", "raw_response")),
        )
        assert c.dev_score == pytest.approx(sum(s.score for s in scores) / 2)
    best = max(checkpoints, key=lambda c: (c.dev_score, -c.epoch))
    assert run.proposed_checkpoint == best
    assert selected.result["proposed_epoch"] == best.epoch


def _finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None
