"""The workspace's data pages through Django's test client: prompts, outputs with
provenance, items and judgments, with filters, search and pagination; every row a link."""

from __future__ import annotations

import re

import pytest

from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt
from evalhub.studies.models import Judgment
from tests.evalhub.dashboards.conftest import (
    add_human,
    add_llm,
    build_pairwise_study,
    verdicts_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def researcher(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def study(db):
    study, items = build_pairwise_study(slug="browse", baselines=["gpt-4", "claude"], n_prompts=60)
    add_human(items, {"gpt-4": verdicts_for(31, 4, 25), "claude": verdicts_for(20, 20, 20)})
    return study


def rows(html: str, table: str) -> list[str]:
    body = re.search(rf'<table[^>]*id="{table}".*?<tbody>(.*?)</tbody>', html, re.S).group(1)
    return re.findall(r"<tr.*?</tr>", body, re.S)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def links(html: str) -> dict[str, str]:
    """{aria-label: href} of the links in `html`."""
    found = re.findall(r'<a href="([^"]+)" aria-label="([^"]+)"', html)
    return {label: href.replace("&amp;", "&") for href, label in found}


def test_it_lists_a_prompt_sets_prompts_with_search_filter_and_pages(researcher, study):
    html = researcher.get("/prompt-sets/").content.decode()
    assert 'href="/prompt-sets/browse-set/"' in html
    page = researcher.get("/prompt-sets/browse-set/").content.decode()
    assert len(rows(page, "prompts")) == 50 and "60 rows · page 1 of 2" in page
    assert "page=2" in page
    assert len(rows(researcher.get("/prompt-sets/browse-set/?page=2").content.decode(),
                    "prompts")) == 10  # fmt: skip
    advice = researcher.get("/prompt-sets/browse-set/?category=advice").content.decode()
    assert "30 rows" in advice
    found = researcher.get("/prompt-sets/browse-set/?q=Question 17%3F").content.decode()
    assert "1 row" in found and len(rows(found, "prompts")) == 1
    prompt = Prompt.objects.get(prompt_set__slug="browse-set", external_id="q17")
    assert all("href=" in row for row in rows(page, "prompts"))  # every row is a link
    detail = researcher.get(f"/prompt-sets/browse-set/prompts/{prompt.pk}/").content.decode()
    assert "Question 17?" in detail and len(rows(detail, "outputs")) == 3  # target + 2 baselines


def test_it_shows_a_models_outputs_and_an_outputs_provenance(researcher, study):
    output = Output.objects.filter(model__slug="lima-65b").order_by("id").first()
    output.provenance = {"engine": "vllm 0.11", "seed": 7, "temperature": 0.7}
    output.save()
    page = researcher.get("/models/lima-65b/outputs/").content.decode()
    assert "60 rows" in page and f'href="/models/lima-65b/outputs/{output.pk}/"' in page
    assert "3 fields" in page  # the provenance column
    detail = researcher.get(f"/models/lima-65b/outputs/{output.pk}/").content.decode()
    provenance = rows(detail, "provenance")
    assert any("seed" in r and "7" in r for r in provenance)
    assert any("temperature" in r and "0.7" in r for r in provenance)
    assert researcher.get(f"/models/claude/outputs/{output.pk}/").status_code == 404
    assert (
        'href="/models/lima-65b/outputs/"' in researcher.get("/models/lima-65b/").content.decode()
    )


def test_it_lists_a_studys_items_and_shows_what_raters_saw(researcher, study):
    page = researcher.get(f"/studies/{study.slug}/items/?baseline=gpt-4").content.decode()
    assert "60 rows" in page
    losses = researcher.get(
        f"/studies/{study.slug}/items/?baseline=gpt-4&verdict=baseline&judge_group=crowd"
    ).content.decode()
    assert "25 rows" in losses
    item = study.items.filter(baseline_output__model__slug="gpt-4").order_by("id").first()
    detail = researcher.get(f"/studies/{study.slug}/items/{item.pk}/").content.decode()
    assert item.target_output.text in detail and item.baseline_output.text in detail
    verdict = item.judgments.get().verdict
    said = {"target": "lima-65b better", "tie": "tie", "baseline": "gpt-4 better"}[verdict]
    assert f"{said} 1" in text(rows(detail, "aggregate")[0])
    link = re.search(r'href="([^"]+)" aria-label="1 [^"]+ by crowd"', rows(detail, "aggregate")[0])
    assert "1 row" in researcher.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert len(rows(detail, "judgments")) == 1


def test_it_lists_judgments_with_rater_time_choice_and_exclusion(researcher, study):
    Judgment.objects.filter(pk=Judgment.objects.order_by("id").first().pk).update(
        excluded=True, time_on_task_ms=4200
    )
    page = researcher.get(f"/studies/{study.slug}/judgments/").content.decode()
    assert "120 rows" in page
    first = rows(page, "judgments")[0]
    assert "hash-crowd-" in first and "4200 ms" in first and "excluded" in first
    excluded = researcher.get(f"/studies/{study.slug}/judgments/?excluded=yes").content.decode()
    assert "1 row" in excluded
    assert (
        "25 rows"
        in researcher.get(
            f"/studies/{study.slug}/judgments/?baseline=gpt-4&verdict=baseline"
        ).content.decode()
    )


def test_the_study_page_counts_link_to_the_judgments_they_count(researcher, study):
    html = researcher.get(f"/studies/{study.slug}/").content.decode()
    headline = rows(html, "headline-table")
    gpt4 = next(r for r in headline if "gpt-4" in r)
    # Counts beside percentages, from the target's side.
    assert re.sub(r"<[^>]+>|\s+", " ", gpt4).count("31 / 4 / 25") == 1 or "31</a>" in gpt4
    assert "(52% / 7% / 42%)" in gpt4
    link = re.search(r'href="([^"]+)" aria-label="25 losses against gpt-4 by crowd"', gpt4)
    url = link.group(1).replace("&amp;", "&")
    assert "25 rows" in researcher.get(url).content.decode()


def test_filters_that_are_too_long_or_unknown_are_harmless(researcher, study):
    assert (
        researcher.get(f"/studies/{study.slug}/judgments/?page=999&verdict=nope").status_code == 200
    )
    assert researcher.get("/prompt-sets/browse-set/?q=" + "x" * 5000).status_code == 200


def test_the_items_list_counts_rater_imported_and_llm_judgments_each_a_link(researcher, study):
    items = {(i.baseline_output.model.slug, int(i.prompt.external_id[1:])): i
             for i in study.items.select_related("prompt", "baseline_output__model")}  # fmt: skip
    add_llm(items, {"gpt-4": ["target"] * 60})  # two orders: 2 LLM judgments per item
    first = items[("gpt-4", 0)]
    Judgment.objects.bulk_create([
        Judgment(item=first, judge_group="arena", verdict="tie", imported_from="arena.json"),
        Judgment(item=first, judge_group="llm:gpt-4-imported", verdict="tie",
                 imported_from="alpaca.json"),
        Judgment(item=first, judge_group="arena", verdict="tie", imported_from="arena.json",
                 excluded=True),  # not counted
    ])  # fmt: skip
    page = researcher.get(f"/studies/{study.slug}/items/?baseline=gpt-4").content.decode()
    row = next(r for r in rows(page, "items") if f"#{first.pk}<" in r)
    found = links(row)
    assert found.keys() == {
        f"1 judgments by raters on item {first.pk}",
        f"1 imported judgments on item {first.pk}",
        f"3 LLM judgments on item {first.pk}",
    }
    for label, href in found.items():
        n = int(label.split()[0])
        listed = researcher.get(href).content.decode()
        assert f"{n} row" in listed and len(rows(listed, "judgments")) == n
    # The rater count is the judgments a rater gave here, not the rating path's counter.
    Item = type(first)
    Item.objects.filter(pk=first.pk).update(judgment_count=0)
    again = researcher.get(f"/studies/{study.slug}/items/?baseline=gpt-4").content.decode()
    assert f"1 judgments by raters on item {first.pk}" in again


def test_a_judge_page_shows_its_configuration_and_links_its_judgments(researcher, study):
    items = {(i.baseline_output.model.slug, int(i.prompt.external_id[1:])): i
             for i in study.items.select_related("prompt", "baseline_output__model")}  # fmt: skip
    judge = add_llm(items, {"gpt-4": ["target"] * 60, "claude": ["tie"] * 60}, slug="judge-x")
    judge.params = {"temperature": 0}
    judge.save()
    Judgment.objects.filter(judge=judge, item__baseline_output__model__slug="claude",
                            order="baseline_first").update(parse_state="failed")  # fmt: skip
    listing = researcher.get("/judges/").content.decode()
    assert all('href="/judges/' in r for r in rows(listing, "judges"))  # every row a link
    page = researcher.get("/judges/judge-x/").content.decode()
    assert "http://127.0.0.1:9/v1" in page and "temperature" in page and "llm:judge-x" in page
    (row,) = rows(page, "judged-studies")
    found = links(row)
    assert set(found) == {
        "240 judgments by judge-x in browse",
        "180 counted judgments by judge-x in browse",
        "60 failed judgments by judge-x in browse",
    }
    for label, href in found.items():
        assert f"{label.split()[0]} rows" in researcher.get(href).content.decode()
    assert researcher.get("/judges/nope/").status_code == 404
