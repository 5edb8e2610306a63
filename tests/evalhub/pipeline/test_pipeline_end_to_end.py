"""The whole LIMA pipeline on the tiny model against real services: `manage.py lima_pipeline`
from a LIMA-format dataset to a dashboard showing human and LLM-judge groups. Redis (a
private one) is restarted in the middle; nothing may be lost and the pipeline must finish.
The browser part saves the README's screenshots under docs/screenshots/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.test import Client

from evalhub.demo.crowd import SIMULATED_GROUP
from evalhub.importing import parse_rows
from evalhub.outputs.models import ModelEntry, Output
from evalhub.outputs.services import model_register, outputs_import
from evalhub.pipeline.models import Pipeline, PipelineStep
from evalhub.prompts.services import prompts_import
from evalhub.studies.models import Item, Judgment
from tests.conftest import ROOT
from tests.evalhub.rating.test_browser import start_by_keyboard
from tests.factories import lab_team
from tests.support import wait_until

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [
    pytest.mark.worker, pytest.mark.vllm, pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]  # fmt: skip

DOCS_SHOTS = ROOT / "docs" / "screenshots"
TRAIN = [
    ["How do I make coffee?", "Grind fresh beans, then brew with water just off the boil."],
    ["Write a story about a robot.", "The robot painted the sunrise every morning."],
    ["Explain recursion.", "A function that solves a smaller copy of its own problem."],
    ["Three tips for a language?", "Practise daily.", "And one more?", "Read for fun."],
]
TEST = [
    ("t1", "How should I ask for a raise?", "Ask."),
    ("t2", "Explain photosynthesis to a child.", "Plants eat light."),
    ("t3", "Write a haiku about rain.", "Rain falls. The end."),
]


def _finished(pipeline_id: int) -> Pipeline | None:
    pipeline = Pipeline.objects.get(pk=pipeline_id)
    return pipeline if pipeline.is_finished else None


def test_the_pipeline_survives_a_redis_restart_and_fills_the_dashboard(
    pipeline_workers, pipeline_env, private_redis, vllm_server, tiny_model_dir, tmp_path,
    live_server, alice, browser,
):  # fmt: skip
    # Inputs: a LIMA-format training file, a test set with a written (submitted) baseline.
    train = tmp_path / "train.jsonl"
    train.write_text("\n".join(json.dumps({"conversations": c}) for c in TRAIN))
    rows = parse_rows("\n".join(json.dumps({"id": i, "text": t}) for i, t, _ in TEST))
    test_set = prompts_import(team=lab_team(), slug="e2e-test", rows=rows).prompt_set
    written = model_register(team=lab_team(), slug="written-baseline", name="Written baseline")
    outputs_import(
        prompt_set=test_set, model=written,
        rows=[(n, {"external_id": i, "output": o}) for n, (i, _, o) in enumerate(TEST, 1)],
    )  # fmt: skip

    command = [
        sys.executable, "manage.py", "lima_pipeline", str(train), "--slug", "e2e", "--team", "lab",
        "--base-model", str(tiny_model_dir), "--recipe", "lima-65b",
        "--set", "epochs=2", "--set", "batch_size=4", "--set", "save_epochs=[2]",
        "--set", "max_length=256", "--set", "micro_batch_tokens=512",
        "--test", "e2e-test", "--dev-size", "2", "--baseline", "written-baseline",
        "--judge-url", vllm_server, "--judge-model", "tiny", "--max-tokens", "16",
        "--simulate-crowd", "--base-url", live_server.url,
    ]  # fmt: skip
    started = subprocess.run(
        command, env=pipeline_env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert started.returncode == 0, started.stderr
    assert "pipeline e2e: progress at" in started.stdout
    pipeline = Pipeline.objects.get(slug="e2e")

    # Restart the broker while the checkpoint is being picked: messages in flight are lost.
    wait_until(
        lambda: Pipeline.objects.filter(pk=pipeline.pk, step__in=["select", "generate"]).exists(),
        timeout=300, interval=0.5,
    )  # fmt: skip
    private_redis.restart()

    done = wait_until(lambda: _finished(pipeline.pk), timeout=900, interval=1)
    assert done.status == Pipeline.Status.SUCCEEDED, done.error
    steps = set(PipelineStep.objects.filter(pipeline=done).values_list("step", flat=True))
    assert steps == {"train", "select", "generate", "judge"}

    # Nothing lost: every test prompt has exactly one output from the chosen checkpoint.
    chosen = done.run.chosen_checkpoint.model
    assert chosen.kind == ModelEntry.Kind.LOCAL
    assert Output.objects.filter(model=chosen, prompt__prompt_set=test_set).count() == len(TEST)
    # ... and every item its verdicts: the judge in both orders, three simulated raters.
    pairwise, absolute = done.pairwise_study, done.absolute_study
    judges = done.params["judges"]
    for study, orders, judge in (
        (pairwise, 2, judges["pairwise"]),
        (absolute, 1, judges["absolute"]),
    ):
        real = Item.objects.filter(study=study, is_gold=False).count()
        assert real == len(TEST)
        llm = Judgment.objects.filter(item__study=study, judge_group=f"llm:{judge}")
        assert llm.filter(parse_state="ok").count() == real * orders
        crowd = Judgment.objects.filter(item__study=study, judge_group=SIMULATED_GROUP)
        assert crowd.count() == real * study.raters_per_item
    assert set(done.result["links"]) >= {"pairwise dashboard", "training run", "leaderboard"}

    _browse(browser, live_server, alice, done)


def _browse(browser, live_server, alice, pipeline: Pipeline) -> None:
    """The dashboard shows both groups; the rater and researcher pages make the README's
    screenshots."""
    client = Client()
    client.force_login(alice)
    host = urlparse(live_server.url)
    links = pipeline.result["links"]
    DOCS_SHOTS.mkdir(parents=True, exist_ok=True)
    # bypass_csp: wait_for_function uses eval(); tests/evalhub/test_csp.py checks the CSP.
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    try:
        context.route("**/*", lambda r: r.continue_()
                      if urlparse(r.request.url).netloc == host.netloc else r.abort())  # fmt: skip
        rater = context.new_page()
        rater.goto(live_server.url + links["pairwise crowd link"])
        _shot(rater, "rater-consent.png")
        start_by_keyboard(rater)
        rater.wait_for_selector("text=Item 1 of")
        rater.wait_for_load_state("load")
        _shot(rater, "rater-pairwise.png")
        assert pipeline.run.chosen_checkpoint.model.slug not in rater.content()

        context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                              "domain": host.hostname, "path": "/"}])  # fmt: skip
        page = context.new_page()
        problems: list[str] = []
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(live_server.url + links["pairwise dashboard"])
        page.wait_for_function(
            "document.querySelectorAll('#chart-wtl g.point').length > 0", timeout=30_000
        )
        groups = page.eval_on_selector_all("#filters input", "els => els.map(e => e.value)")
        judge = pipeline.params["judges"]["pairwise"]
        assert {SIMULATED_GROUP, f"llm:{judge}"} <= set(groups)
        wtl = page.evaluate("document.getElementById('chart-wtl').data[0].y[1]")
        assert {SIMULATED_GROUP, f"llm:{judge}"} <= set(wtl)
        _shot(page, "researcher-dashboard.png")
        for name, path in (("researcher-absolute.png", links["fail/pass/excellent dashboard"]),
                           ("researcher-leaderboard.png", links["leaderboard"]),
                           ("researcher-training-run.png", links["training run"]),
                           ("researcher-pipeline-job.png", links["pipeline job"])):  # fmt: skip
            response = page.goto(live_server.url + path)
            assert response.status == 200, path
            page.wait_for_load_state("networkidle")
            _shot(page, name)
        assert problems == []
    finally:
        context.close()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(Path(DOCS_SHOTS) / name), full_page=True)
