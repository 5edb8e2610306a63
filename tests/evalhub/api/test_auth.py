"""Who may call the API, the token command, throttling, and the shape of every error."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.settings import api_settings
from rest_framework.test import APIClient

from evalhub.accounts.services import user_create
from tests.factories import join, lab_team

pytestmark = pytest.mark.django_db


def test_an_anonymous_caller_gets_401_in_the_error_shape(anon_api):
    response = anon_api.get("/api/v1/models/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {
        "status": 401,
        "code": "not_authenticated",
        "detail": "Authentication credentials were not provided.",
        "problems": [],
    }


def test_a_wrong_token_gets_401(anon_api):
    anon_api.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
    response = anon_api.get("/api/v1/models/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_rater_gets_403(rater_api):
    response = rater_api.get("/api/v1/studies/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert "team" in response.json()["detail"]


def test_a_rater_cannot_write_either(rater_api):
    response = rater_api.post("/api/v1/models/", {"slug": "m"}, format="json")
    assert response.status_code == 403


def test_a_researcher_gets_in(api):
    response = api.get("/api/v1/models/")
    assert response.status_code == 200
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_create_api_token_prints_a_working_token(alice, anon_api, capsys):
    call_command("create_api_token", "alice", "--team", "lab")
    key = capsys.readouterr().out.strip()
    (token,) = AuthToken.objects.filter(user=alice)
    assert token.expiry is None and key.startswith(token.token_key)
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert anon_api.get("/api/v1/jobs/").status_code == 200
    # Only a hash is kept, so each call makes (and shows) a new token.
    call_command("create_api_token", "alice", "--team", "lab")
    assert capsys.readouterr().out.strip() != key
    assert AuthToken.objects.filter(user=alice).count() == 2


def test_create_api_token_rotates(alice, anon_api, capsys):
    call_command("create_api_token", "alice", "--team", "lab")
    old = capsys.readouterr().out.strip()
    call_command("create_api_token", "alice", "--team", "lab", "--rotate")
    new = capsys.readouterr().out.strip()
    assert new != old and AuthToken.objects.filter(user=alice).count() == 1
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert anon_api.get("/api/v1/jobs/").status_code == 401
    anon_api.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert anon_api.get("/api/v1/jobs/").status_code == 200


def test_create_api_token_expires_days(alice, capsys):
    call_command("create_api_token", "alice", "--team", "lab", "--expires-days", "30")
    (token,) = AuthToken.objects.filter(user=alice)
    left = token.expiry - timezone.now()
    assert timedelta(days=29, hours=23) < left <= timedelta(days=30)
    with pytest.raises(CommandError, match="--expires-days must be at least 1, not 0"):
        call_command("create_api_token", "alice", "--team", "lab", "--expires-days", "0")


def test_create_api_token_refuses_raters_and_strangers(bob):
    with pytest.raises(CommandError, match="not a member of a team"):
        call_command("create_api_token", "bob", "--team", "lab")
    with pytest.raises(CommandError, match="no user 'carol'"):
        call_command("create_api_token", "carol", "--team", "lab")


def test_an_unknown_api_path_is_a_json_404(api):
    response = api.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def _rates(token: str, bulk: str = "60/min") -> dict:
    return {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": {"token": token, "bulk": bulk}}


def test_requests_are_throttled_per_token(api, alice):
    carol = user_create(username="carol", password="carol-password-1", role="researcher")
    join(carol)
    from tests.evalhub.api.conftest import client_for

    other = client_for(carol)
    with override_settings(REST_FRAMEWORK=_rates("3/min")):
        assert [api.get("/api/v1/jobs/").status_code for _ in range(4)] == [200, 200, 200, 429]
        limited = api.get("/api/v1/jobs/")
        assert limited.json()["code"] == "throttled"
        assert int(limited["Retry-After"]) > 0
        # Another token has its own budget.
        assert other.get("/api/v1/jobs/").status_code == 200


def test_bulk_submissions_have_their_own_tighter_rate(api, eval_set):
    with override_settings(REST_FRAMEWORK=_rates("100/min", bulk="1/min")):
        body = '{"external_id": "q1", "output": "x", "model": "m"}'
        url = "/api/v1/prompt-sets/eval/outputs/"
        first = api.post(url, body, content_type="application/x-ndjson")
        second = api.post(url, body, content_type="application/x-ndjson")
        assert (first.status_code, second.status_code) == (201, 429)
        assert api.get(url).status_code == 200  # reads are not counted as bulk


def test_failed_tokens_are_throttled_per_address(alice):
    from evalhub.accounts.services import api_token_create

    _, good = api_token_create(team=lab_team(), user=alice)
    here, there = "203.0.113.9", "198.51.100.9"

    def call(token: str, address: str):
        client = APIClient(REMOTE_ADDR=address)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        return client.get("/api/v1/jobs/")

    with override_settings(API_TOKEN_FAILURE_LIMIT=3):
        assert [call("f" * 64, here).status_code for _ in range(3)] == [401] * 3
        # The address is now refused, with the right token too (no oracle for a guesser).
        refused = call(good, here)
        assert refused.status_code == 429 and refused.json()["code"] == "throttled"
        assert 0 < int(refused["Retry-After"]) <= 601
        assert call(good, there).status_code == 200  # another address is not
