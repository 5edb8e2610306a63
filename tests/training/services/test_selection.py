"""Checkpoint selection: propose the best dev score (a Likert mean, or the chain of pairwise
log-odds against the previous epoch), let a researcher accept or pick, put the chosen
checkpoint in a study. The end-to-end tests run every real piece."""

import json
import math

import pytest

from evalhub.importing import InputError, parse_rows
from evalhub.jobs.models import Job
from evalhub.outputs.models import Output
from evalhub.studies.models import Judge, Judgment, Study
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)
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
from training.services.selection import (
    PAIRWISE_SCALE,
    SelectionError,
    best_checkpoint,
    checkpoints_chain_score,
    pair_study,
    selection_job_run,
)


def make_run(tiny_model_dir, tmp_path, conversations, slug="run"):
    rows = parse_rows("\n".join(json.dumps({"conversations": c}) for c in conversations))
    dataset = dataset_import(slug=f"{slug}-data", name="data", rows=rows)
    [lima_65b, _] = recipe_presets_ensure()
    return training_run_create(team=lab_team(),
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
    study = chosen_checkpoint_study_create(team=lab_team(),
        run=run, slug="lima-vs-alpaca", name="", prompt_set=PromptSetFactory(),
        baselines=[baseline], by=alice,
    )  # fmt: skip
    assert study.target_model == first.model and study.status == Study.Status.DRAFT
    assert list(study.baselines.all()) == [baseline]


def register_judge(slug, template, base_url="http://127.0.0.1:9/v1"):
    from generation.judging.services import judge_register

    return judge_register(
        team=lab_team(), slug=slug, name=slug, model="m", base_url=base_url, template=template
    )


def write_verdicts(judge, study, pairs):
    """The judge's verdicts on the study's items in order, as its run writes them: per item
    (target-first, baseline-first), target's side; None is an answer that did not parse."""
    from generation.judging.planning import judge_group_name

    items = study.items.filter(is_gold=False).order_by("id")
    for item, verdicts in zip(items, pairs, strict=True):
        for order, verdict in zip(("target_first", "baseline_first"), verdicts, strict=True):
            Judgment.objects.create(
                item=item, judge=judge, judge_group=judge_group_name(judge), order=order,
                verdict=verdict or "", raw_choice="Answer A is significantly better",
                parse_state=Judgment.ParseState.OK if verdict else Judgment.ParseState.FAILED,
            )  # fmt: skip


def dev_outputs(checkpoints, prompts=4):
    dev = PromptSetFactory(slug="dev")
    for i in range(prompts):
        prompt = PromptFactory(prompt_set=dev, external_id=f"dev{i}")
        for c in checkpoints:
            OutputFactory(prompt=prompt, model=c.model, text=f"epoch {c.epoch} answers {i}.")
    return dev


@pytest.mark.django_db
def test_the_judge_sets_the_mode_and_a_judge_of_another_scale_is_refused(
    tiny_model_dir, tmp_path, conversations
):
    run = make_run(tiny_model_dir, tmp_path, conversations)
    first = checkpoint_register(run=run, epoch=1, step=2, path=tmp_path / "e1")
    dev = dev_outputs([first], prompts=1)
    labels = register_judge("labels", Judge.Template.FAIL_PASS_EXCELLENT)
    with pytest.raises(InputError, match="fail_pass_excellent") as refused:
        checkpoint_selection_start(run=run, prompt_set=dev, judge=labels)
    assert refused.value.problems[0].field == "judge"
    pairwise = register_judge("pairs", Judge.Template.LIMA_PAIRWISE)
    with pytest.raises(InputError, match="needs two") as alone:
        checkpoint_selection_start(run=run, prompt_set=dev, judge=pairwise)
    assert alone.value.problems[0].field == "run"
    likert = register_judge("likert", Judge.Template.LIMA_LIKERT)
    assert checkpoint_selection_start(run=run, prompt_set=dev, judge=likert).params["mode"] == (
        "likert"
    )
    second = checkpoint_register(run=run, epoch=2, step=4, path=tmp_path / "e2")
    job = checkpoint_selection_start(run=run, prompt_set=dev, judge=pairwise)
    assert job.params["mode"] == "pairwise" and run.selection_job == job and run.judge == pairwise
    # A study left under the slug by other outputs is not judged as if it were this one.
    Study.objects.create(team=lab_team(), slug="run-dev-epoch-02-vs-01", name="old", prompt_set=PromptSetFactory(),
                         target_model=second.model)  # fmt: skip
    with pytest.raises(SelectionError, match="already exists for other outputs"):
        pair_study(run, first, second)


@pytest.mark.django_db
def test_a_pairwise_judge_scores_each_epoch_against_the_previous_one_and_proposes_the_best(
    tiny_model_dir, tmp_path, conversations, alice
):
    run = make_run(tiny_model_dir, tmp_path, conversations)
    checkpoints = [
        checkpoint_register(run=run, epoch=e, step=2 * e, path=tmp_path / f"e{e}")
        for e in (1, 2, 3)
    ]
    dev = dev_outputs(checkpoints)
    judge = register_judge("pairs", Judge.Template.LIMA_PAIRWISE)
    job = checkpoint_selection_start(run=run, prompt_set=dev, judge=judge, requested_by=alice)
    second = pair_study(run, checkpoints[0], checkpoints[1])
    third = pair_study(run, checkpoints[1], checkpoints[2])
    assert (second.slug, third.slug) == ("run-dev-epoch-02-vs-01", "run-dev-epoch-03-vs-02")
    assert second.status == Study.Status.LAUNCHED and second.items.count() == 4
    assert second.target_model == checkpoints[1].model
    assert list(second.baselines.all()) == [checkpoints[0].model]
    assert (second.kind, second.raters_per_item, second.attention_check_rate) == (
        Study.Kind.PAIRWISE, 1, 0.0,
    )  # fmt: skip
    # 2 vs 1: two wins in both orders, a flip (a tie under the study's policy), a tie.
    write_verdicts(judge, second, [("target", "target"), ("target", "baseline"),
                                   ("tie", "tie"), ("target", "target")])  # fmt: skip
    # 3 vs 2: two losses, a flip, a win.
    write_verdicts(judge, third, [("baseline", "baseline"), ("baseline", "baseline"),
                                  ("baseline", "target"), ("target", "target")])  # fmt: skip

    # Every output and verdict is there, so the job only reuses them and scores.
    result = selection_job_run(job=job, run=run)

    up = math.log((2 + 1 + 0.5) / (0 + 1 + 0.5))  # 2 wins, 2 ties (half each), 0 losses
    down = math.log((1 + 0.5 + 0.5) / (2 + 0.5 + 0.5))  # 1 win, 1 tie, 2 losses
    assert result["mode"] == "pairwise" and result["proposed_epoch"] == 2
    assert result["scores"] == pytest.approx({"1": 0.0, "2": up, "3": up + down})
    run.refresh_from_db()
    assert run.proposed_checkpoint == checkpoints[1]
    first, middle, last = run.checkpoints.order_by("epoch")
    assert (first.dev_score, first.dev_score_n) == (0.0, 0)
    assert first.dev_score_detail == {"scale": PAIRWISE_SCALE, "judge": "pairs", "reference": True}
    assert middle.dev_score == pytest.approx(up) and middle.dev_score_n == 4
    assert middle.dev_score_detail == {
        "scale": PAIRWISE_SCALE, "judge": "pairs", "study": "run-dev-epoch-02-vs-01",
        "previous_epoch": 1, "wins": 2, "ties": 2, "losses": 0, "swap_consistent": 3,
        "both_orders": 4, "policy": "tie", "log_odds": pytest.approx(up),
        "log_odds_se": pytest.approx(math.sqrt(1 / 3.5 + 1 / 1.5)), "smoothing": 0.5,
        "parse_states": {"ok": 8},
    }  # fmt: skip
    assert last.dev_score == pytest.approx(up + down)
    assert (last.dev_score_detail["wins"], last.dev_score_detail["ties"]) == (1, 1)

    # Swap-inconsistent pairs follow the study's policy; an unparsed answer is not a verdict.
    third.inconsistent_pair_policy = "drop"
    third.save()
    Judgment.objects.filter(item__study=third, order="baseline_first", verdict="target").filter(
        item__prompt__external_id="dev3"
    ).update(verdict="", parse_state=Judgment.ParseState.FAILED)
    checkpoints_chain_score(checkpoints=[first, middle, last], judge=judge, studies=[second, third])
    last.refresh_from_db()
    detail = last.dev_score_detail
    assert (detail["wins"], detail["ties"], detail["losses"]) == (1, 0, 2)
    assert detail["policy"] == "drop" and detail["parse_states"] == {"ok": 7, "failed": 1}
    assert (detail["swap_consistent"], detail["both_orders"]) == (2, 3)
    assert last.dev_score == pytest.approx(up + math.log(1.5 / 2.5)) and last.dev_score_n == 3


@pytest.mark.django_db
def test_a_comparison_with_no_parsed_verdict_breaks_the_chain(
    tiny_model_dir, tmp_path, conversations
):
    run = make_run(tiny_model_dir, tmp_path, conversations)
    checkpoints = [
        checkpoint_register(run=run, epoch=e, step=2 * e, path=tmp_path / f"e{e}")
        for e in (1, 2, 3)
    ]
    dev = dev_outputs(checkpoints, prompts=1)
    judge = register_judge("pairs", Judge.Template.LIMA_PAIRWISE)
    checkpoint_selection_start(run=run, prompt_set=dev, judge=judge)
    second = pair_study(run, checkpoints[0], checkpoints[1])
    third = pair_study(run, checkpoints[1], checkpoints[2])
    write_verdicts(judge, second, [(None, None)])
    write_verdicts(judge, third, [("target", "target")])
    scored = checkpoints_chain_score(checkpoints=checkpoints, judge=judge, studies=[second, third])
    # Epoch 3 beat epoch 2, but nothing places either against epoch 1: no score, no proposal.
    assert [c.dev_score for c in scored] == [None, None, None]
    assert scored[1].dev_score_detail["parse_states"] == {"failed": 2}
    assert scored[2].dev_score_detail["wins"] == 1
    assert best_checkpoint(scored) is None


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
    judge = judge_register(team=lab_team(),
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


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.vllm
def test_end_to_end_pairwise_selection_against_the_previous_checkpoint(
    training_worker, generation_worker, celery_worker, vllm_server, tiny_model_dir, tmp_path,
    conversations,
):  # fmt: skip
    from generation.judging.services import judge_register

    run = make_run(tiny_model_dir, tmp_path, conversations, slug="e2e-pairs")
    trained = wait_until(lambda: _finished(run.job_id), timeout=300)
    assert trained.status == Job.Status.SUCCEEDED, trained.error

    dev = PromptSetFactory(slug="dev")
    for i in range(2):
        PromptFactory(prompt_set=dev, external_id=f"dev{i}", text=f"Dev question {i}?")
    judge = judge_register(team=lab_team(),
        slug="tiny-pairs", name="Tiny pairwise", model="tiny", base_url=vllm_server,
        template=Judge.Template.LIMA_PAIRWISE, params={"seed": 0},
        verdict_mode=Judge.VerdictMode.GUIDED_CHOICE,
    )  # fmt: skip
    job = checkpoint_selection_start(run=run, prompt_set=dev, judge=judge,
                                     generation_overrides={"max_tokens": 16})  # fmt: skip
    selected = wait_until(lambda: _finished(job.pk), timeout=900, interval=1)
    assert selected.status == Job.Status.SUCCEEDED, selected.error

    run.refresh_from_db()
    first, second = run.checkpoints.order_by("epoch")
    for c in (first, second):
        assert Output.objects.filter(model=c.model, prompt__prompt_set=dev).count() == 2
    study = Study.objects.get(slug="e2e-pairs-dev-epoch-02-vs-01")
    assert study.kind == Study.Kind.PAIRWISE and study.target_model == second.model
    assert list(study.baselines.all()) == [first.model]
    rows = Judgment.objects.filter(judge=judge, item__study=study)
    # Guided choice: every answer is one of the options, in both orders of both pairs.
    assert sorted(rows.values_list("order", "parse_state")) == [
        ("baseline_first", "ok"), ("baseline_first", "ok"),
        ("target_first", "ok"), ("target_first", "ok"),
    ]  # fmt: skip
    # Count by hand: a pair the judge flipped on is a tie (the study's default policy).
    by_item = {}
    for row in rows:
        by_item.setdefault(row.item_id, set()).add(row.verdict)
    combined = [v.pop() if len(v) == 1 else "tie" for v in by_item.values()]
    wins, ties, losses = (combined.count(v) for v in ("target", "tie", "baseline"))
    detail = second.dev_score_detail
    assert (detail["wins"], detail["ties"], detail["losses"]) == (wins, ties, losses), detail
    assert detail["scale"] == "pairwise-vs-previous" and detail["study"] == study.slug
    assert second.dev_score_n == 2
    assert second.dev_score == pytest.approx(
        math.log((wins + ties / 2 + 0.5) / (losses + ties / 2 + 0.5))
    )
    assert first.dev_score == 0.0 and first.dev_score_detail["reference"] is True
    best = second if second.dev_score > 1e-9 else first
    assert run.proposed_checkpoint == best
    assert selected.result["mode"] == "pairwise"
    assert selected.result["proposed_epoch"] == best.epoch


def _finished(job_id):
    job = Job.objects.get(pk=job_id)
    return job if job.is_finished else None
