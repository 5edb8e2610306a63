"""The rater preview steps through every item, not only the first few, and jumps to one."""

from __future__ import annotations

import re

import pytest

from evalhub.studies.models import Judgment
from evalhub.studies.services import study_create, study_launch
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def study(db):
    prompt_set = PromptSetFactory(slug="qs")
    target, baseline = ModelEntryFactory(slug="tgt"), ModelEntryFactory(slug="base")
    for i in range(9):
        prompt = PromptFactory(prompt_set=prompt_set, external_id=f"q{i}", text=f"Question {i}?",
                               position=i)  # fmt: skip
        OutputFactory(prompt=prompt, model=target, text=f"target answer {i}")
        OutputFactory(prompt=prompt, model=baseline, text=f"baseline answer {i}")
    return study_create(team=lab_team(), slug="s1", name="S1", prompt_set=prompt_set, target_model=target,
                        baselines=[baseline], attention_check_rate=0)  # fmt: skip


@pytest.mark.parametrize("launched", [False, True])
def test_the_preview_steps_through_every_item_and_jumps(client, alice, study, launched):
    if launched:
        study_launch(study=study)
    client.force_login(alice)
    seen = []
    for n in range(1, 10):
        html = client.get(f"/studies/s1/preview/{n}/").content.decode()
        assert f"Item {n} of 9" in html
        seen.append(re.search(r"Question (\d)\?", html).group(1))
    assert sorted(seen) == [str(i) for i in range(9)]  # every item, each once
    last = client.get("/studies/s1/preview/9/").content.decode()
    assert 'id="preview-next"' not in last and 'id="preview-prev"' in last
    assert client.post("/studies/s1/preview/9/").url == "/studies/s1/preview/done/"
    assert client.get("/studies/s1/preview/go/?n=7").url == "/studies/s1/preview/7/"
    assert client.get("/studies/s1/preview/10/").status_code == 404
    assert not Judgment.objects.exists()
