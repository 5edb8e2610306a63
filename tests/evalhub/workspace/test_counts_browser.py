"""Numbers that open their rows, judges and the edit record, in Chromium: a click on a
progress bar, a Fail / Pass / Excellent segment or a row total opens the rows it counts;
the items list's counts by source; a judge's page from the judges list; the history of a
renamed and deleted model. axe-core on every page (0 serious or critical); screenshots in
docs/screenshots/."""

from __future__ import annotations

import pytest

from evalhub.outputs.models import ModelEntry
from evalhub.studies.models import Item, Judgment, Study
from evalhub.teams.models import AuditEvent
from tests.evalhub.dashboards.conftest import (
    add_human,
    add_llm,
    build_pairwise_study,
    verdicts_for,
)
from tests.evalhub.workspace.test_data_browser import checked, rows_listed, shot
from tests.factories import lab_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def study(db):
    study, items = build_pairwise_study(slug="lima", baselines=["gpt-4", "claude-2"], n_prompts=60)
    add_human(items, {"gpt-4": verdicts_for(25, 5, 30), "claude-2": verdicts_for(20, 20, 20)})
    # A second crowd rater on the first 20 prompts: items with 2 human judgments.
    add_human(items, {"gpt-4": verdicts_for(10, 5, 5)})
    add_llm(items, {"gpt-4": verdicts_for(30, 10, 20)}, slug="judge-4o")
    return study


def plotted(page, chart: str) -> None:
    page.wait_for_function(
        f"!!(document.getElementById('{chart}').data && document.getElementById('{chart}').on)",
        timeout=30_000,
    )


def click_bar(page, chart: str, trace: int, point: int) -> None:
    """Click one bar of a plotly chart (plotly clicks the point under its hover)."""
    bar = page.locator(f"#{chart} .barlayer .trace").nth(trace).locator(".point path").nth(point)
    bar.scroll_into_view_if_needed()
    bar.hover(force=True)
    page.wait_for_selector(f"#{chart} .hoverlayer .hovertext")
    box = bar.bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_a_progress_bar_and_the_progress_figures_open_their_rows(
    researcher_page, live_server, study
):
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    plotted(page, "chart-progress")
    checked(page)
    label = page.text_content("#progress-label")
    assert "140 human judgments" in label and "of 120 items" in label
    # The bar of items with 2 human judgments: the 20 gpt-4 items the second rater judged.
    click_bar(page, "chart-progress", 0, 2)
    assert "human_judgments=2" in page.url and rows_listed(page) == 20
    checked(page)
    page.go_back()
    plotted(page, "chart-progress")
    with page.expect_navigation():
        page.click("#progress-label a[aria-label='140 human judgments']")
    assert rows_listed(page) == 140
    page.go_back()
    page.wait_for_selector("#wtl-counts tbody a")
    row = page.locator("#wtl-counts tbody tr[data-baseline='gpt-4'][data-group='llm:judge-4o']")
    with page.expect_navigation():
        row.get_by_label("60 counted against gpt-4 by llm:judge-4o").click()
    assert rows_listed(page) == 60 and "the row's total" in page.text_content("#total-note")
    checked(page)
    # The study list and the overview: items and the capped progress figure, each a link,
    # the figure saying it is not a row count.
    for path in ("/studies/", "/dashboards/"):
        page.goto(f"{live_server.url}{path}")
        checked(page)
        assert "not a row count" in page.text_content("table caption")
        with page.expect_navigation():
            page.get_by_label("120 of 120 human judgments toward the quota", exact=False).click()
        assert rows_listed(page) == 140
    page.goto(f"{live_server.url}/studies/")
    shot(page, "30-studies-list")


def test_the_items_list_counts_judgments_by_source_each_a_link(researcher_page, live_server, study):
    first = Item.objects.get(study=study, prompt__external_id="q0",
                             baseline_output__model__slug="gpt-4")  # fmt: skip
    Judgment.objects.create(item=first, judge_group="arena", verdict="tie",
                            imported_from="arena.json")  # fmt: skip
    page = researcher_page
    page.goto(f"{live_server.url}/studies/{study.slug}/items/?baseline=gpt-4")
    checked(page)
    row = page.locator("#items tbody tr", has_text="q0:")
    assert row.locator("td.num").all_text_contents() == ["2", "1", "2"]
    shot(page, "27-items-by-source")
    with page.expect_navigation():
        row.get_by_label(f"2 LLM judgments on item {first.pk}").click()
    checked(page)
    assert rows_listed(page) == 2 and f"Only item #{first.pk}" in page.text_content("#item-note")
    assert set(page.locator("#judgments tbody td:nth-child(3)").all_text_contents()) == {
        "llm:judge-4o"
    }


def test_a_judge_page_shows_its_configuration_and_opens_its_judgments(
    researcher_page, live_server, study
):
    page = researcher_page
    page.goto(f"{live_server.url}/judges/")
    checked(page)
    with page.expect_navigation():
        page.click("#judges tbody tr >> nth=0 >> a >> nth=0")
    checked(page)
    assert page.url.endswith("/judges/judge-4o/")
    assert "http://127.0.0.1:9/v1" in page.text_content("#judge-config")
    shot(page, "28-judge")
    with page.expect_navigation():
        page.click("a[aria-label='120 counted judgments by judge-4o in lima']")
    checked(page)
    assert rows_listed(page) == 120 and "judge-4o" in page.text_content("#narrowed-note")


def test_a_renamed_and_deleted_model_keeps_its_history(researcher_page, live_server, study):
    page = researcher_page
    spare = ModelEntry.objects.create(team=lab_team(), slug="spare-model", name="Spare model")
    page.goto(f"{live_server.url}/models/spare-model/edit/")
    page.fill("input[name=name]", "Spare model, renamed")
    page.fill("input[name=slug]", "spare-2")
    with page.expect_navigation():
        page.click("#rename-save")
    checked(page)
    history = page.text_content("#history")
    assert "Renamed" in history and '"spare-2"' in history and "alice" in history
    with page.expect_navigation():
        page.click("#delete-link")
    with page.expect_navigation():
        page.click("#confirm-delete")
    page.goto(f"{live_server.url}/history/")
    checked(page)
    assert (
        AuditEvent.objects.filter(object_type="outputs.modelentry", object_id=spare.pk).count() == 2
    )
    rows = page.locator("#history tbody tr")
    assert "Deleted" in rows.nth(0).text_content() and "Renamed" in rows.nth(1).text_content()
    shot(page, "29-history")
    with page.expect_navigation():
        rows.nth(0).locator("a").first.click()
    checked(page)
    assert page.locator("#history tbody tr").count() == 2
    assert Study.objects.filter(slug="lima").exists()
