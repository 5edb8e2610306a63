"""The account pages in a real browser: a locked-out login says so; a researcher makes a
token (shown once), sees it listed and revokes it."""

from __future__ import annotations

import pytest
from django.test import Client
from knox.models import AuthToken
from rest_framework.test import APIClient

from tests.browser import assert_accessible

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_locked_out_login_says_so(browser, live_server, alice):
    # The live server sees the browser at 127.0.0.1: ten wrong passwords from there lock it.
    wrong = Client(REMOTE_ADDR="127.0.0.1")
    for _ in range(10):
        wrong.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "alice")
    page.fill("#id_password", "alice-password-1")
    with page.expect_response(lambda r: r.url.endswith("/accounts/login/")) as answer:
        page.click("button[type=submit]")
    assert answer.value.status == 429
    message = page.locator("#locked-out")
    assert message.get_attribute("role") == "alert"
    assert "Too many failed logins for this account from your address" in message.text_content()
    assert page.input_value("#id_username") == "alice"
    assert_accessible(page)
    context.close()


def test_a_researcher_makes_and_revokes_a_token(researcher_page, live_server, alice):
    page = researcher_page
    page.goto(f"{live_server.url}/accounts/tokens/")
    assert page.locator("#tokens tbody").text_content().strip() == "No tokens."
    page.fill("#id_expires_days", "30")
    page.click("#token-form button[type=submit]")
    raw = page.input_value("#new-token-value")
    assert len(raw) == 64
    assert "Copy it now: it will not be shown again." in page.locator("#new-token").text_content()
    assert_accessible(page)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    assert api.get("/api/v1/jobs/").status_code == 200

    page.goto(f"{live_server.url}/accounts/tokens/")
    assert page.locator("#new-token").count() == 0  # shown once
    row = page.locator("#tokens tbody tr")
    assert row.count() == 1 and raw[:8] in row.text_content()
    row.get_by_role("button", name=f"Revoke token {raw[:8]}").click()
    page.wait_for_selector("text=Token revoked: it no longer works.")
    assert not AuthToken.objects.filter(user=alice).exists()
    assert api.get("/api/v1/jobs/").status_code == 401
    assert page.problems == []
