"""A rating page's CSRF token: Django's format and check, a fresh mask on every page, and the
cookie left alone once it is set."""

import re
from collections import Counter

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    _get_new_csrf_string,
    _unmask_cipher_token,
)
from django.test import Client, RequestFactory

from evalhub.rating.csrf import _mask, page_csrf_token
from tests.evalhub.rating.test_crowd_flow import TOKEN, enter

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="(\w+)"')


def test_a_page_token_is_the_cookies_secret_under_a_fresh_mask():
    request = RequestFactory().get("/")
    secret = request.META["CSRF_COOKIE"] = _get_new_csrf_string()
    tokens = [page_csrf_token(request) for _ in range(50)]
    assert len(set(tokens)) == 50
    assert all(len(t) == 64 and set(t) <= set(CSRF_ALLOWED_CHARS) for t in tokens)
    assert {_unmask_cipher_token(t) for t in tokens} == {secret}
    assert "CSRF_COOKIE_NEEDS_UPDATE" not in request.META  # the cookie stays as it is


def test_a_request_without_the_cookie_gets_a_new_secret_from_django():
    request = RequestFactory().get("/")
    token = page_csrf_token(request)
    assert request.META["CSRF_COOKIE_NEEDS_UPDATE"] is True
    assert _unmask_cipher_token(token) == request.META["CSRF_COOKIE"]


def test_the_mask_favours_no_character():
    counts = Counter(i for _ in range(20000) for i in _mask())
    assert set(counts) == set(range(len(CSRF_ALLOWED_CHARS)))
    # A byte taken modulo 62 would make the first 8 characters 25% likelier.
    assert max(counts.values()) / min(counts.values()) < 1.12


@pytest.mark.django_db
def test_rating_pages_keep_the_cookie_and_djangos_check(make_study):
    study = make_study(prompts=3, session_quota=3)
    client = Client(enforce_csrf_checks=True)
    enter(client, study)
    consent = client.get(f"/s/{study.crowd_code}/consent/")
    assert "csrftoken" in consent.cookies  # the first page sets it
    csrf = CSRF.search(consent.content.decode()).group(1)
    assert (
        client.post(f"/s/{study.crowd_code}/consent/", {"csrfmiddlewaretoken": csrf}).status_code
        == 303
    )
    page = client.get(f"/s/{study.crowd_code}/rate/")
    assert page.status_code == 200 and "csrftoken" not in page.cookies
    answer = {"a": TOKEN.search(page.content.decode()).group(1), "choice": "A"}
    # A well-formed token of another secret is refused, the page's own accepted.
    stranger = _get_new_csrf_string() * 2  # mask = cipher: the secret "aaa...a"
    url = f"/s/{study.crowd_code}/rate/"
    assert client.post(url, {**answer, "csrfmiddlewaretoken": stranger}).status_code == 403
    own = CSRF.search(page.content.decode()).group(1)
    assert client.post(url, {**answer, "csrfmiddlewaretoken": own}).status_code == 303
