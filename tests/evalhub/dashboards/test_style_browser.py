"""The style-controlled leaderboard in a real browser, with axe-core."""

from __future__ import annotations

import pytest

from tests.browser import assert_accessible
from tests.evalhub.dashboards.test_style_control import verbose_study  # noqa: F401 - fixture
from tests.support import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_study_page_shows_plain_and_style_controlled_side_by_side(
    researcher_page,
    live_server,
    celery_worker,
    verbose_study,  # noqa: F811 - the fixture imported above
):
    page = researcher_page
    url = f"{live_server.url}/dashboards/studies/{verbose_study.slug}/"
    page.goto(url)
    # The first visit queues the shared fit; the real worker computes it off the request.
    board = page.locator("[data-style-board]")
    board.wait_for()

    def fitted() -> bool:
        page.goto(url)
        return page.locator("[data-style-board] .style-coefficients").count() == 1

    wait_until(fitted, timeout=180, interval=1)
    assert board.locator("tbody tr").count() == 3
    assert "+1 sd of length is worth +" in board.locator(".style-coefficients").text_content()
    assert board.locator("[data-rank-change]").count() == 3
    assert_accessible(page)
    assert page.problems == []
