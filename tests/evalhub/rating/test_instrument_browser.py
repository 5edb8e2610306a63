"""Every preset in a real browser: a Prolific participant rates a small study by keyboard
alone (the instrument's keys, then Enter) and lands on Prolific; the pages pass axe-core.
Also the workspace's instruments page, where a researcher makes a custom instrument."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlparse

import pytest

from evalhub.instruments.models import Instrument
from evalhub.instruments.selectors import instrument_latest
from evalhub.instruments.services import presets_install
from evalhub.outputs.services import output_fields
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_launch
from tests.browser import assert_accessible
from tests.evalhub.rating.test_browser import LONG_ANSWER, PROLIFIC, page, start_by_keyboard  # noqa: F401
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory, lab_team

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
STUDY_KIND = {"pairwise": "pairwise", "absolute": "absolute", "scale": "likert"}
PRESETS = ["lima-pairwise", "lima-fail-pass-excellent", "arena-4way", "arena-hard-5point",
           "likert-helpfulness", "safety"]  # fmt: skip


def preset_study(slug: str, prompts: int):
    presets_install()
    instrument = instrument_latest(team=lab_team(), slug=slug)
    study = StudyFactory(kind=STUDY_KIND[instrument.kind], instrument=instrument,
                         attention_check_rate=0.0, session_quota=prompts, raters_per_item=1,
                         completion_code="DONE123")  # fmt: skip
    if instrument.kind == "pairwise":
        study.baselines.set([ModelEntryFactory(slug=f"secret-baseline-{study.pk}")])
    for n in range(prompts):
        prompt = PromptFactory(prompt_set=study.prompt_set, text=f"Question {n}: a raise?")
        OutputFactory(prompt=prompt, model=study.target_model, **output_fields(LONG_ANSWER))
        for baseline in study.baselines.all():
            OutputFactory(prompt=prompt, model=baseline, **output_fields("Just ask."))
    return study_launch(study=study)


@pytest.mark.parametrize("slug", PRESETS)
def test_a_participant_rates_each_preset_by_keyboard(page, live_server, slug):  # noqa: F811
    presets_install()
    definition = instrument_latest(team=lab_team(), slug=slug).definition
    keys = [c.key for c in definition.choices][:3]  # the first, second and third choice
    study = preset_study(slug, prompts=len(keys))
    page.goto(f"{live_server.url}/s/{study.crowd_code}/?PROLIFIC_PID=kb{study.pk}&STUDY_ID=s")
    assert_accessible(page)
    start_by_keyboard(page)
    for n, key in enumerate(keys, start=1):
        page.wait_for_selector(f"text=Item {n} of {len(keys)}")
        page.wait_for_load_state("load")
        assert definition.question in page.inner_text("main")
        if n == 1:
            assert_accessible(page)
        page.keyboard.press(str(key))
        assert page.locator("input[name=choice]:checked").count() == 1
        page.keyboard.press("Enter")
    page.wait_for_url(f"{PROLIFIC}**", timeout=10_000)
    assert parse_qs(urlparse(page.url).query)["cc"] == ["DONE123"]
    chosen = list(Judgment.objects.order_by("id").values_list("raw_choice", flat=True))
    by_key = {c.key: c.value for c in definition.choices}
    assert chosen == [by_key[k] for k in keys]


def test_a_researcher_makes_a_custom_instrument_on_the_workspace_page(researcher_page, live_server):
    presets_install()
    web = researcher_page
    web.goto(f"{live_server.url}/instruments/")
    assert "Arena-Hard (5-point)" in web.inner_text("main")
    assert_accessible(web)
    web.fill("#id_slug", "tone")
    web.fill("#id_name", "Tone")
    web.select_option("#id_kind", "absolute")
    web.fill("#id_question", "What is the tone?")
    web.fill("#id_choices", "warm | Warm | Friendly\nwarm | Cold | Distant")
    web.click("main button[type=submit]")
    assert "duplicate value" in web.inner_text("main")  # refused, naming the choice
    assert not Instrument.objects.filter(slug="tone").exists()
    web.fill("#id_choices", "warm | Warm | Friendly\ncold | Cold | Distant")
    web.click("main button[type=submit]")
    web.wait_for_selector("#tone")
    assert Instrument.objects.get(slug="tone").definition.by_value["cold"].key == 2
    assert not web.problems
