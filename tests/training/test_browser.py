"""A training run's page in a real browser (Playwright driving Debian's Chromium): the curves
plot what the trainer recorded and follow new steps without a reload, the checkpoints table
shows the dev scores and the proposal, a choice sticks, and Cancel stops a running run.

The rows come from the services the trainer and the selection job use; no training runs here
(tests/training/services run the real trainer on the tiny model)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from evalhub.jobs.models import Job
from evalhub.jobs.services import JobCancelled, job_claim, job_mark_cancelled, job_succeed
from evalhub.jobs.tasks import job_run
from evalhub.studies.models import Judge, Judgment
from tests.conftest import ROOT
from tests.factories import OutputFactory, PromptFactory, PromptSetFactory, lab_team
from training.models import TrainingRun
from training.services import (
    checkpoint_selection_start,
    dataset_import,
    recipe_presets_ensure,
    training_run_create,
)
from training.services.runs import RunRecorder
from training.services.selection import pair_study

if TYPE_CHECKING:  # training.engine.loop imports torch: not on collection
    from training.engine.loop import StepMetrics

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = ROOT / "var" / "screenshots"
STEPS_PER_EPOCH, EPOCHS = 3, 3
TOTAL_STEPS = STEPS_PER_EPOCH * EPOCHS
# Chart div -> the TrainingStep column it plots (templates/training/run_detail.html).
CHARTS = {"chart-loss": "loss", "chart-lr": "lr", "chart-epoch": "epoch",
          "chart-tokens": "tokens_per_s", "chart-eta": "eta_s"}  # fmt: skip
# What each plotly graph div holds: the x (steps) and y of its one trace.
PLOTTED = """ids => Object.fromEntries(ids.map(id => {
  const gd = document.getElementById(id);
  return [id, gd.data ? {x: gd.data[0].x, y: gd.data[0].y} : null];
}))"""


def metrics(step: int) -> StepMetrics:
    """What the loop reports after `step`: every column distinct, so a swap would show."""
    from training.engine.loop import StepMetrics

    return StepMetrics(
        step=step, total_steps=TOTAL_STEPS, epoch=step / STEPS_PER_EPOCH,
        loss=3.0 - 0.25 * step, lr=1e-5 * (TOTAL_STEPS - step + 1) / TOTAL_STEPS,
        tokens=512, tokens_per_s=100.0 + 10 * step, elapsed_s=2.0 * step,
        eta_s=2.0 * (TOTAL_STEPS - step), grad_norm=1.0,
    )  # fmt: skip


def expected(steps: range) -> dict[str, dict[str, list[float]]]:
    rows = [metrics(s) for s in steps]
    return {
        chart: {"x": [m.step for m in rows], "y": pytest.approx([getattr(m, col) for m in rows])}
        for chart, col in CHARTS.items()
    }


@pytest.fixture
def run(tiny_model_dir, tmp_path, alice, own_queue) -> TrainingRun:
    """A run whose training job this test has claimed, as a worker does when the trainer
    starts. Its job goes to the test's own queue: a training worker started by another test
    must not claim (and train) it."""
    with own_queue():
        dataset = dataset_import(
            slug="lima",
            name="LIMA",
            rows=[(1, {"conversations": ["Make coffee?", "Grind beans."]})],
        )
        [lima_65b, _] = recipe_presets_ensure()
        run = training_run_create(team=lab_team(),
            dataset=dataset, base_model=str(tiny_model_dir), recipe=lima_65b,
            overrides={"epochs": EPOCHS, "save_epochs": list(range(1, EPOCHS + 1))},
            slug="lima-run", name="LIMA recipe on the tiny model", output_dir=tmp_path / "run",
            requested_by=alice,
        )  # fmt: skip
    assert job_claim(job_id=run.job_id)
    return run


def plotted(page) -> dict[str, dict[str, list[float]] | None]:
    return page.evaluate(PLOTTED, list(CHARTS))


def run_url(live_server, run: TrainingRun) -> str:
    return f"{live_server.url}/training/runs/{run.slug}/"


def test_the_curves_plot_the_recorded_metrics_and_follow_new_steps(
    researcher_page, live_server, run
):
    page = researcher_page
    recorder = RunRecorder(run=run, job_id=run.job_id)
    for step in range(1, 4):
        recorder.step_done(metrics(step))
    page.goto(run_url(live_server, run))
    page.wait_for_function("document.getElementById('chart-loss').data?.[0].x.length === 3")
    assert plotted(page) == expected(range(1, 4))
    titles = page.eval_on_selector_all(
        ".js-plotly-plot .gtitle", "els => els.map(e => e.textContent)"
    )
    assert titles == ["Loss (per trained token)", "Learning rate", "Epoch", "Tokens / s", "ETA (s)"]
    # Plotly drew the line too, not only took the data.
    assert page.locator("#chart-loss .scatterlayer path.js-line").count() == 1

    # Two more steps while the page is open reach it through the 2 s poll of live.json.
    page.evaluate("window.__not_reloaded = true")
    for step in (4, 5):
        recorder.step_done(metrics(step))
    page.wait_for_function(
        "document.getElementById('chart-loss').data[0].x.length === 5", timeout=15_000
    )
    assert plotted(page) == expected(range(1, 6))
    assert page.evaluate("window.__not_reloaded") is True
    assert page.locator("#job-status").text_content() == "Running"
    assert page.eval_on_selector("#job-progress", "b => [b.value, b.max]") == [5, TOTAL_STEPS]
    assert page.locator("#job-note").text_content() == "epoch 1.67, loss 1.7500"
    assert page.locator("#eta").text_content() == "8 s"  # 2 s a step, 4 steps left
    assert page.problems == []


def test_a_checkpoint_saved_while_the_page_is_open_appears_without_a_reload(
    researcher_page, live_server, run, tmp_path
):
    page = researcher_page
    recorder = RunRecorder(run=run, job_id=run.job_id)
    for step in range(1, STEPS_PER_EPOCH + 1):
        recorder.step_done(metrics(step))
    page.goto(run_url(live_server, run))
    assert page.locator("#checkpoints tbody").text_content().strip() == "No checkpoint yet."
    page.evaluate("window.__not_reloaded = true")

    recorder.checkpoint_saved(epoch=1, step=STEPS_PER_EPOCH, path=tmp_path / "epoch-1")
    page.wait_for_function(
        "document.querySelectorAll('#checkpoints tbody tr[data-epoch]').length === 1",
        timeout=15_000,
    )
    checkpoint = run.checkpoints.get()
    row = page.locator("#checkpoints tbody tr[data-epoch='1'] td")
    assert row.nth(1).text_content() == str(STEPS_PER_EPOCH)
    assert row.nth(2).text_content() == checkpoint.model.slug
    assert page.evaluate("window.__not_reloaded") is True
    # The refreshed row's Choose form works (its CSRF token came with it).
    row.get_by_role("button", name="Choose").click()
    page.wait_for_selector("#checkpoints .chosen")
    run.refresh_from_db()
    assert run.chosen_checkpoint == checkpoint
    assert page.problems == []


def register_pairwise_judge() -> Judge:
    from generation.judging.services import judge_register

    # Never called: every verdict is written before selection runs.
    return judge_register(team=lab_team(), slug="pairs", name="Pairwise judge", model="m",
                          base_url="http://127.0.0.1:9/v1", template=Judge.Template.LIMA_PAIRWISE)  # fmt: skip


def write_verdicts(judge: Judge, study, pairs) -> None:
    """The judge's parsed verdicts per item (target-first, baseline-first), as its run writes
    them (generation.judging.writer)."""
    from generation.judging.planning import judge_group_name

    items = study.items.filter(is_gold=False).order_by("id")
    for item, verdicts in zip(items, pairs, strict=True):
        for order, verdict in zip(("target_first", "baseline_first"), verdicts, strict=True):
            Judgment.objects.create(
                item=item, judge=judge, judge_group=judge_group_name(judge), order=order,
                verdict=verdict, raw_choice=verdict, parse_state=Judgment.ParseState.OK,
            )  # fmt: skip


def trained_and_selected(run: TrainingRun, tmp_path: Path, own_queue) -> None:
    """Every step and epoch recorded, then pairwise selection on a two-prompt dev set: epoch 2
    beats epoch 1 (2 wins, 1 tie), epoch 3 loses to epoch 2 (1 win, 2 losses)."""
    recorder = RunRecorder(run=run, job_id=run.job_id)
    for step in range(1, TOTAL_STEPS + 1):
        recorder.step_done(metrics(step))
        if step % STEPS_PER_EPOCH == 0:
            epoch = step // STEPS_PER_EPOCH
            recorder.checkpoint_saved(epoch=epoch, step=step, path=tmp_path / f"epoch-{epoch}")
    job_succeed(job_id=run.job_id)
    checkpoints = list(run.checkpoints.select_related("model").order_by("epoch"))

    dev = PromptSetFactory(slug="dev")
    for i in range(3):
        prompt = PromptFactory(prompt_set=dev, external_id=f"dev{i}")
        for c in checkpoints:
            OutputFactory(prompt=prompt, model=c.model, text=f"Epoch {c.epoch} answers {i}.")
    judge = register_pairwise_judge()
    run.dev_prompt_set = dev
    first, second, third = checkpoints
    write_verdicts(judge, pair_study(run, first, second),
                   [("target", "target"), ("target", "target"), ("tie", "tie")])  # fmt: skip
    write_verdicts(judge, pair_study(run, second, third),
                   [("baseline", "baseline"), ("baseline", "baseline"), ("target", "target")])  # fmt: skip
    with own_queue():  # no worker takes it: this test runs it, as the training worker does
        job = checkpoint_selection_start(run=run, prompt_set=dev, judge=judge)
    run.refresh_from_db()
    job_run(job.pk)
    done = Job.objects.get(pk=job.pk)
    assert done.status == Job.Status.SUCCEEDED, done.error


def test_the_checkpoints_show_dev_scores_and_the_proposal_and_a_choice_sticks(
    researcher_page, live_server, run, tmp_path, alice, own_queue
):
    trained_and_selected(run, tmp_path, own_queue)
    page = researcher_page
    page.goto(run_url(live_server, run))
    page.wait_for_function(
        f"document.getElementById('chart-loss').data?.[0].x.length === {TOTAL_STEPS}"
    )
    assert plotted(page) == expected(range(1, TOTAL_STEPS + 1))
    assert page.locator("#job-status").text_content() == "Succeeded"
    assert page.locator("#eta").text_content() == "-"  # nothing left to wait for
    assert page.locator("#cancel-form").count() == 0

    # The chain: 0 for epoch 1, then the summed log-odds of beating the previous epoch
    # (ties count half, 0.5 smoothing on each side).
    up = math.log((2 + 0.5 + 0.5) / (0 + 0.5 + 0.5))
    down = math.log((1 + 0 + 0.5) / (2 + 0 + 0.5))
    rows = page.locator("#checkpoints tbody tr")
    assert rows.evaluate_all("rs => rs.map(r => r.dataset.epoch)") == ["1", "2", "3"]
    assert page.locator("#checkpoints .dev-score").all_text_contents() == [
        "0.000", f"{up:.3f}", f"{up + down:.3f}",
    ]  # fmt: skip
    assert page.locator("#checkpoints .vs-previous").all_text_contents() == [
        "reference",
        "vs epoch 1: 2 / 1 / 0 (3 of 3 pairs swap-consistent)",
        "vs epoch 2: 1 / 0 / 2 (3 of 3 pairs swap-consistent)",
    ]
    assert "log-odds chain" in page.locator("#score-scale").text_content()
    assert page.locator("tr[data-epoch='2'] .proposed").count() == 1
    assert page.locator("#checkpoints .proposed").count() == 1
    assert (
        page.locator("#proposal")
        .text_content()
        .startswith(f"Proposed: epoch 2 (chain score {up:.3f}")
    )
    assert page.locator("#selection-status").text_content() == "Succeeded"
    assert page.locator("#checkpoints .chosen").count() == 0

    # Accept the proposal: the page comes back with epoch 2 chosen.
    with page.expect_navigation():
        page.click("#accept-proposal")
    assert page.locator("tr[data-epoch='2'] .chosen").count() == 1
    assert page.locator("#chosen-model").text_content() == "lima-run-epoch-02"
    run.refresh_from_db()
    assert (run.chosen_checkpoint.epoch, run.chosen_by) == (2, alice)

    # Or pick another: the proposal stays where selection put it.
    with page.expect_navigation():
        page.locator("tr[data-epoch='3'] button", has_text="Choose").click()
    assert page.locator("#checkpoints .chosen").count() == 1
    assert page.locator("tr[data-epoch='3'] .chosen").count() == 1
    assert page.locator("tr[data-epoch='2'] .proposed").count() == 1
    assert page.locator("#chosen-model").text_content() == "lima-run-epoch-03"
    run.refresh_from_db()
    assert run.chosen_checkpoint.epoch == 3 and run.proposed_checkpoint.epoch == 2

    page.wait_for_function(
        f"document.getElementById('chart-loss').data?.[0].x.length === {TOTAL_STEPS}"
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "training-run.png"), full_page=True)
    assert page.problems == []


def test_cancel_stops_a_running_run_at_its_next_step(researcher_page, live_server, run):
    page = researcher_page
    recorder = RunRecorder(run=run, job_id=run.job_id)
    recorder.step_done(metrics(1))
    page.goto(run_url(live_server, run))
    page.wait_for_function("document.getElementById('chart-loss').data?.[0].x.length === 1")

    # Without the form's CSRF token the same POST (with the session cookie) is refused.
    refused = page.request.post(f"{live_server.url}/training/runs/{run.slug}/cancel/")
    assert refused.status == 403
    assert not Job.objects.get(pk=run.job_id).cancel_requested

    with page.expect_navigation():
        page.click("#cancel-form button")
    assert "Asked the run to stop" in page.locator(".messages").text_content()
    job = Job.objects.get(pk=run.job_id)
    # A running job is asked to stop; the trainer stops at its next step's report.
    assert job.cancel_requested and job.status == Job.Status.RUNNING
    assert page.locator("#cancel-form").is_hidden()
    page.wait_for_function("document.body.dataset.liveSteps === '1'")  # a poll came back
    assert page.locator("#job-status").text_content() == "Running (stop requested)"
    with pytest.raises(JobCancelled):
        recorder.step_done(metrics(2))
    job_mark_cancelled(job_id=run.job_id)  # what the worker does with JobCancelled

    page.wait_for_function(
        "document.getElementById('job-status').textContent === 'Cancelled'", timeout=15_000
    )
    # The step the trainer recorded before it stopped is the last point.
    assert plotted(page)["chart-loss"] == expected(range(1, 3))["chart-loss"]
    assert page.locator("#eta").text_content() == "-"
    assert page.problems == []
