"""The LLM judge asks the study's instrument: the same question and choices in its prompt,
guided choice (or a JSON schema) over exactly those choices, both orders for pairwise; run
for real against `vllm serve` of the tiny model, through the Celery worker."""

from collections import Counter

import pytest

from evalhub.instruments.definitions import PAIRWISE
from evalhub.instruments.selectors import instrument_latest
from evalhub.instruments.services import presets_install
from evalhub.studies.models import Judge, Judgment, Study
from evalhub.studies.services import config_hash
from generation.judging.config import judge_config
from generation.judging.planning import work_units
from generation.judging.services import judge_register, judge_run_create
from generation.judging.verdicts import pairwise_verdict, request_extras
from tests.factories import lab_team
from tests.generation.judging.conftest import make_study
from tests.generation.judging.test_judge_run import run_to_end

STUDY_KIND = {"pairwise": Study.Kind.PAIRWISE, "absolute": Study.Kind.ABSOLUTE,
              "scale": Study.Kind.LIKERT}  # fmt: skip
PRESETS = ["lima-pairwise", "lima-fail-pass-excellent", "arena-4way", "arena-hard-5point",
           "likert-helpfulness", "safety"]  # fmt: skip


def study_asking(slug: str, n_items: int = 2) -> Study:
    """A launched-like study (items made directly) whose frozen config names the preset."""
    presets_install()
    instrument = instrument_latest(team=lab_team(), slug=slug)
    study = make_study(kind=STUDY_KIND[instrument.kind], n_items=n_items, gold=1)
    study.instrument = instrument
    study.status = Study.Status.LAUNCHED
    study.config = {"instrument": {"slug": instrument.slug, "version": instrument.version,
                                   "content_hash": instrument.content_hash}}  # fmt: skip
    study.config_hash = config_hash(study.config)
    study.save()
    return study


def instrument_judge(base_url: str, mode: str = "guided_choice") -> Judge:
    return judge_register(team=lab_team(),
        slug=f"tiny-instrument-{mode}", name="Tiny judge asking the study's instrument",
        model="tiny", base_url=base_url, template=Judge.Template.INSTRUMENT,
        params={"backoff_base_s": 0.05, "samples": 1}, verdict_mode=mode,
    )  # fmt: skip


@pytest.mark.django_db
@pytest.mark.parametrize("slug", PRESETS)
def test_the_judge_prompt_is_the_instruments_question_and_choices(slug):
    study = study_asking(slug)
    judge = instrument_judge("http://127.0.0.1:9/v1")
    config = judge_config(judge, study)
    definition = study.instrument.definition
    units = work_units(config, judge, study)
    pairwise = definition.kind == PAIRWISE
    assert len(units) == (4 if pairwise else 2)  # both orders for pairwise; no gold item
    for unit in units:
        if not definition.judge_template:
            assert definition.question in unit.prompt_text
        for choice in definition.choices:
            assert choice.judge_text in unit.prompt_text
    guided = request_extras("guided_choice", config.instrument)
    assert guided["extra_body"]["structured_outputs"]["choice"] == [
        c.judge_text for c in definition.choices
    ]
    schema = request_extras("json_schema", config.instrument)["response_format"]["json_schema"]
    assert schema["schema"] == definition.verdict_schema()


def test_lima_presets_ask_todays_judge_text_exactly():
    from generation.judging.judge_prompts import builtin_prompt_template

    for preset, template in (("lima-pairwise", "lima_pairwise"),
                             ("lima-fail-pass-excellent", "fail_pass_excellent"),
                             ("likert-helpfulness", "lima_likert")):  # fmt: skip
        from evalhub.instruments.definitions import definition_from_data
        from evalhub.instruments.presets import preset_data

        definition = definition_from_data(preset_data()[preset])
        shipped = builtin_prompt_template(template)
        assert definition.judge_text() == shipped.text
        assert definition.judge_meanings() == shipped.choices


@pytest.mark.django_db(transaction=True)
@pytest.mark.worker
@pytest.mark.vllm
@pytest.mark.parametrize("slug", PRESETS)
def test_the_judge_answers_in_the_instruments_choices(slug, celery_worker, fault_proxy, alice):
    study = study_asking(slug)
    mode = "json_schema" if slug == "arena-4way" else "guided_choice"
    judge = instrument_judge(fault_proxy.base_url, mode)
    run_to_end(judge_run_create(judge=judge, study=study, requested_by=alice))

    definition = study.instrument.definition
    rows = list(Judgment.objects.filter(judge=judge))
    assert {r.parse_state for r in rows} == {"ok"}
    texts = {c.judge_text: c for c in definition.choices}
    if definition.kind == PAIRWISE:
        assert Counter(r.order for r in rows) == {"target_first": 2, "baseline_first": 2}
        for r in rows:
            assert r.verdict == pairwise_verdict(texts[r.raw_choice].side, r.order)
    elif definition.kind == "scale":
        assert len(rows) == 2 and all(texts[r.raw_choice].score == r.score for r in rows)
    else:
        assert len(rows) == 2 and all(texts[r.raw_choice].value == r.verdict for r in rows)
