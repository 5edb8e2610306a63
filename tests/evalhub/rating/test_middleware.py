"""Django's user and message middleware pass the crowd rating pages straight on; the rest of
the site, the logged-in raters' page included, runs them as ever."""

import pytest
from django.test import Client

from tests.evalhub.rating.test_crowd_flow import enter

pytestmark = pytest.mark.django_db

SKIPPED = ("user", "_messages")


def test_crowd_pages_run_without_users_or_messages(make_study):
    study = make_study()
    client = Client(enforce_csrf_checks=True)
    entry = enter(client, study)
    consent = client.get(entry["Location"])
    for response in (entry, consent):
        assert [name for name in SKIPPED if hasattr(response.wsgi_request, name)] == []
    assert "sessionid" not in client.cookies
    # The security middleware still runs: a policy, and a CSRF token the POST needs.
    assert "default-src 'none'" in consent["Content-Security-Policy"]
    assert consent["X-Frame-Options"] == "DENY"
    assert client.post(f"/s/{study.crowd_code}/consent/").status_code == 403


def test_other_pages_keep_users_and_messages():
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert [name for name in SKIPPED if not hasattr(response.wsgi_request, name)] == []


def test_the_logged_in_raters_page_still_asks_for_a_login(make_study):
    study = make_study()
    response = Client().get(f"/rate/{study.crowd_code}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
