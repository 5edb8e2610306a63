"""API tokens (django-rest-knox): expiry, revocation from the tokens page taking effect at
once, only a hash in the database."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create, user_create
from tests.factories import join, lab_team

pytestmark = pytest.mark.django_db


def api_as(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


def page_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def rows_holding(text: str) -> list[str]:
    """Every table of the database with a row whose text form contains `text`."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT count(*) FROM {quoted} t WHERE t::text LIKE %s", [f"%{text}%"])  # noqa: S608
            if cursor.fetchone()[0]:
                found.append(table)
    return found


def test_an_expired_token_gets_401(alice):
    APIClient().get("/api/v1/jobs/")  # warm up: the first request loads the URLs
    token, raw = api_token_create(team=lab_team(), user=alice, expires_in=timedelta(minutes=5))
    assert api_as(raw).get("/api/v1/jobs/").status_code == 200
    assert token.expiry > timezone.now() + timedelta(minutes=4)
    # Its five minutes pass: the expiry moves into the past rather than the test sleeping.
    AuthToken.objects.filter(pk=token.pk).update(expiry=timezone.now() - timedelta(seconds=1))
    response = api_as(raw).get("/api/v1/jobs/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_token_without_expiry_keeps_working(alice):
    token, raw = api_token_create(team=lab_team(), user=alice)
    assert token.expiry is None
    assert api_as(raw).get("/api/v1/jobs/").status_code == 200


def test_a_token_revoked_on_the_tokens_page_gets_401_at_once(alice):
    token, raw = api_token_create(team=lab_team(), user=alice)
    api = api_as(raw)
    assert api.get("/api/v1/jobs/").status_code == 200
    page = page_client(alice)
    response = page.post("/accounts/tokens/revoke/", {"token": token.digest}, follow=True)
    assert "Token revoked: it no longer works." in response.content.decode()
    assert api.get("/api/v1/jobs/").status_code == 401  # the same client, the next request
    assert not AuthToken.objects.filter(user=alice).exists()


@pytest.mark.django_db(transaction=True)
def test_the_raw_token_is_never_in_the_database(alice):
    page = page_client(alice)
    response = page.post("/accounts/tokens/", {"expires_days": "30"})
    assert response.status_code == 200
    raw = re.search(
        r'id="new-token-value" readonly value="([0-9a-f]{64})"', response.content.decode()
    )[1]
    assert api_as(raw).get("/api/v1/jobs/").status_code == 200
    (token,) = AuthToken.objects.filter(user=alice)
    # The stored columns: a SHA-512 digest and a 15-character lookup prefix, never the token.
    stored = AuthToken.objects.filter(pk=token.pk).values().get()
    assert raw not in [str(v) for v in stored.values()]
    assert stored["digest"] != raw and len(stored["digest"]) == 128
    assert raw.startswith(stored["token_key"]) and len(stored["token_key"]) == 15
    # Nowhere else either: no row of any table holds it (sessions, axes, logs...).
    assert rows_holding(raw[15:]) == []


def test_the_tokens_page_shows_a_new_token_once_and_lists_only_ones_own(alice):
    carol = user_create(username="carol", password="carol-password-1", role="researcher")
    join(carol)
    theirs, _ = api_token_create(team=lab_team(), user=carol)
    page = page_client(alice)
    made = page.post("/accounts/tokens/", {"expires_days": ""})
    assert made["Cache-Control"].startswith("max-age=0") and "no-store" in made["Cache-Control"]
    raw = re.search(r'readonly value="([0-9a-f]{64})"', made.content.decode())[1]
    assert "Does not expire" in made.content.decode()
    listed = page.get("/accounts/tokens/").content.decode()
    assert raw not in listed  # shown once
    assert raw[:8] in listed  # identified by its first characters
    assert theirs.token_key[:8] not in listed and theirs.digest not in listed


def test_one_cannot_revoke_another_researchers_token(alice):
    carol = user_create(username="carol", password="carol-password-1", role="researcher")
    join(carol)
    theirs, raw = api_token_create(team=lab_team(), user=carol)
    response = page_client(alice).post(
        "/accounts/tokens/revoke/", {"token": theirs.digest}, follow=True
    )
    assert "No such token" in response.content.decode()
    assert api_as(raw).get("/api/v1/jobs/").status_code == 200


def test_a_bad_expiry_is_refused_with_its_field_named(alice):
    response = page_client(alice).post("/accounts/tokens/", {"expires_days": "0"})
    assert response.status_code == 400
    assert "Ensure this value is greater than or equal to 1." in response.content.decode()
    assert not AuthToken.objects.exists()


def test_the_tokens_page_is_for_researchers(client, bob):
    assert client.get("/accounts/tokens/")["Location"].startswith("/accounts/login/")
    assert page_client(bob).get("/accounts/tokens/").status_code == 403
    assert page_client(bob).post("/accounts/tokens/", {}).status_code == 403
