"""Every dashboard figure downloads as SVG and as PNG under the site's own CSP (not bypassed):
plotly's PNG export draws the SVG through a blob: image, which img-src must allow."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from evalhub.dashboards.cache import study_stats_invalidate
from tests.evalhub.dashboards.conftest import (
    LIMA_GPT4,
    LIMA_HUMAN,
    add_human,
    add_llm,
    answer_with_the_lima_instrument,
    build_pairwise_study,
    verdicts_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def enforcing_page(browser, live_server, alice) -> Iterator:
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])  # fmt: skip
    page = context.new_page()
    page.problems = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico")
            and page.problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def settle(page, expression: str, timeout_s: float = 30) -> None:
    """Polled through the DevTools protocol: wait_for_function uses eval(), which the CSP refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"never true: {expression}"
        page.wait_for_timeout(100)


def test_every_figure_downloads_as_svg_and_png_under_the_production_policy(
    enforcing_page, live_server
):
    study, items = build_pairwise_study(slug="fig", baselines=list(LIMA_HUMAN), n_prompts=20)
    add_human(items, {b: verdicts_for(*(n // 5 for n in wtl)) for b, wtl in LIMA_HUMAN.items()})
    add_llm(items, {b: verdicts_for(*(n // 5 for n in wtl)) for b, wtl in LIMA_GPT4.items()})
    # The LIMA 3-way instrument, answered: raw choices as shown (A is the left-hand answer).
    answer_with_the_lima_instrument(study)
    study_stats_invalidate(study.pk)
    page = enforcing_page
    response = page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    policy = response.headers["content-security-policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["img-src"] == "'self' data: blob:" and "unsafe-eval" not in policy
    assert "blob:" not in policy.replace(directives["img-src"], "")  # images only
    settle(page, "document.querySelectorAll('.chart-actions').length >= 8")
    charts = page.eval_on_selector_all(
        ".chart-actions + .js-plotly-plot", "els => els.map(e => e.id.replace(/^chart-/, ''))"
    )
    assert len(charts) >= 8 and "choices" in charts, charts
    # The instrument's choices in words, from the target's side (not "Answer A ...").
    legend = page.evaluate("document.getElementById('chart-choices').data.map(t => t.name)")
    assert legend == ["lima-65b much better", "baseline much better",
                      "Neither is significantly better"]  # fmt: skip
    for chart in charts:
        for fmt in ("svg", "png"):
            with page.expect_download(timeout=30_000) as download:
                page.click(f"button[aria-label='Download {chart} as {fmt.upper()}']")
            assert download.value.suggested_filename == f"fig-{chart}.{fmt}"
            body = Path(download.value.path()).read_bytes()
            if fmt == "png":
                assert body.startswith(PNG_MAGIC), chart
                assert len(body) > 10_000, chart  # a drawn figure, not an empty canvas
            else:
                assert body.lstrip().startswith(b"<svg") and body.rstrip().endswith(b"</svg>")
    # plotly's own toolbar button (PNG) works too.
    with page.expect_download(timeout=30_000) as download:
        page.locator("#chart-wtl").hover()
        page.click(
            "#chart-wtl .modebar-btn[data-title^='Download plot']"
            ":not([data-title='Download plot as SVG'])"
        )
    assert Path(download.value.path()).read_bytes().startswith(PNG_MAGIC)
    assert page.problems == []
