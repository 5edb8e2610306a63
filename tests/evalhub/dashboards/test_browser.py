"""The study dashboard in a real browser: Playwright driving Debian's Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalhub.studies.models import Judgment
from tests.evalhub.dashboards.conftest import lc_fits_land

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


def test_the_study_page_draws_its_charts_and_follows_new_judgments(
    researcher_page, live_server, lima_study
):
    page = researcher_page
    lc_fits_land(lima_study)
    page.goto(f"{live_server.url}/dashboards/studies/{lima_study.slug}/")
    page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 7", timeout=30_000
    )
    drawn = page.eval_on_selector_all(".js-plotly-plot", "els => els.map(e => e.id)")
    assert set(drawn) >= {"chart-wtl", "chart-agreement", "chart-leaderboard", "chart-position",
                          "chart-swap", "chart-length", "chart-progress"}  # fmt: skip
    # Ten stacked bars: five baselines, crowd and GPT-4 side by side.
    assert page.locator("#chart-wtl g.point").count() >= 30
    assert page.locator("#chart-wtl .modebar-btn[data-title='Download plot as SVG']").count() == 1
    # PNG (plotly's own toImage button) and SVG (ours) from the toolbar.
    assert page.locator("#chart-wtl .modebar-btn[data-title^='Download plot']").count() == 2
    # Weighted and length-controlled win rates per baseline and judge group, formula named.
    lc_rows = page.locator("#length-controlled tr")
    assert lc_rows.count() == 10
    assert "length_controlled_minimal" in lc_rows.first.text_content()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard.png"), full_page=True)
    assert page.problems == []

    # A new judgment reaches the open page by polling, without a reload.
    page.evaluate("window.__not_reloaded = true")
    item = lima_study.items.order_by("id").first()
    Judgment.objects.create(item=item, judge_group="author", verdict="target", order="target_first")
    page.wait_for_function(
        "document.getElementById('updated').textContent.startsWith('1501 judgments')",
        timeout=20_000,
    )
    assert page.evaluate("window.__not_reloaded") is True
    assert page.locator("#filters input[value='author']").is_checked()  # the new group's box

    # Filtering by judge group redraws from the JSON endpoint.
    page.locator("#filters input[value='llm:gpt-4']").uncheck()
    page.wait_for_function("location.search.includes('group=author')")
    page.wait_for_function(
        "document.getElementById('chart-wtl').data[0].y[1].every(g => g !== 'llm:gpt-4')",
        timeout=20_000,
    )
    assert page.problems == []
