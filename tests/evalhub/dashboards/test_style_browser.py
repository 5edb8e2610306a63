"""The style-controlled leaderboard in a real browser, with axe-core."""

from __future__ import annotations

import pytest

from tests.browser import assert_accessible
from tests.evalhub.dashboards.test_style_control import verbose_study  # noqa: F401 - fixture

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_study_page_shows_plain_and_style_controlled_side_by_side(
    researcher_page,
    live_server,
    verbose_study,  # noqa: F811 - the fixture imported above
):
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{verbose_study.slug}/")
    board = page.locator("[data-style-board]")
    board.wait_for()
    assert board.locator("tbody tr").count() == 3
    assert "+1 sd of length is worth +" in board.locator(".style-coefficients").text_content()
    assert board.locator("[data-rank-change]").count() == 3
    assert_accessible(page)
    assert page.problems == []
