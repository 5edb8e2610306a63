"""Chatbot Arena battles uploaded in the browser, imported by a real Celery worker, then
shown on the dashboard with style control. Real Postgres, Redis, worker and Chromium."""

from __future__ import annotations

import json
import os

import pytest

from evalhub.studies.models import Judgment
from tests.evalhub.api.test_arena import conversation_row
from tests.evalhub.workspace.test_researcher_browser_flow import (  # noqa: F401 - fixture
    log_in,
    researcher,
    upload,
    visit_checked,
    wait_for_job,
)
from tests.support import wait_until

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_arena_battles_go_from_upload_to_the_style_controlled_board(
    researcher,  # noqa: F811 - the fixture imported above
    live_server,
    celery_worker,
    tmp_path,
):
    page = researcher
    log_in(page, live_server)
    winners = ["model_a", "model_b", "tie", "tie (bothbad)"]
    battles = "\n".join(json.dumps(conversation_row(i, winners[i % 4])) for i in range(24))
    upload(page, live_server, tmp_path, "battles.jsonl", battles, "arena", "sample")
    assert page.text_content("#preview-rows") == "24"
    assert page.locator("#preview-models tbody tr").count() == 3
    page.click("#upload-confirm")
    wait_for_job(page)
    assert Judgment.objects.filter(imported_from="battles.jsonl").count() == 24
    url = f"{live_server.url}/dashboards/studies/arena-sample/"
    page.goto(url)
    board = page.locator("[data-style-board]")
    board.wait_for()

    def fitted() -> bool:  # the first visit queued the shared fit; the worker computes it
        page.goto(url)
        return page.locator("[data-style-board] .style-coefficients").count() == 1

    wait_until(fitted, timeout=180, interval=1)
    visit_checked(page)
    assert board.locator("tbody tr").count() == 3
    assert "+1 sd of length is worth" in board.text_content()
