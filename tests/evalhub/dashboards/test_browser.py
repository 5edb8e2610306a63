"""The study dashboard in a real browser: Playwright driving Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.test import Client

from evalhub.studies.models import Judgment
from tests.evalhub.rating.test_browser import ARGS, chromium_installed

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_installed(), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def researcher_page(browser, live_server, alice) -> Iterator:
    """A page logged in as alice that can reach only the live server; console errors and
    uncaught exceptions are collected in page.problems."""
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    host = urlparse(live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "domain": host.hostname, "path": "/"}])  # fmt: skip
    context.route(
        "**/*",
        lambda r: r.continue_() if urlparse(r.request.url).netloc == host.netloc else r.abort(),
    )
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def test_the_study_page_draws_its_charts_and_follows_new_judgments(
    researcher_page, live_server, lima_study
):
    page = researcher_page
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
