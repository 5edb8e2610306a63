"""API test fixtures: token-authenticated clients for alice (researcher) and bob (rater),
and a small pairwise setup: a prompt set, a target, a baseline and their outputs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest
import requests
from django.db import connection
from knox.models import AuthToken
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create
from evalhub.teams.models import Membership
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    lab_team,
)


def client_for(user) -> APIClient:
    """A client with a new token of `user` in the lab team; for a user in no team (a rater),
    a knox token bound to no team, which the API refuses with 403."""
    client = APIClient()
    if user is not None:
        if Membership.objects.filter(user=user).exists():
            raw = api_token_create(team=lab_team(), user=user)[1]
        else:
            raw = AuthToken.objects.create(user=user)[1]
        client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    return client


@pytest.fixture
def api(alice) -> APIClient:
    """alice's client (a researcher)."""
    return client_for(alice)


@pytest.fixture
def rater_api(bob) -> APIClient:
    return client_for(bob)


@pytest.fixture
def anon_api(db) -> APIClient:
    return APIClient()


@pytest.fixture
def eval_set():
    """Prompt set "eval" with q1..q3 (texts "Question 1?" ...)."""
    prompt_set = PromptSetFactory(slug="eval", name="Eval")
    for i in (1, 2, 3):
        PromptFactory(prompt_set=prompt_set, external_id=f"q{i}", text=f"Question {i}?", position=i)
    return prompt_set


@pytest.fixture
def pair_models(eval_set):
    """Target "lima" and baseline "davinci", each with an output for every prompt of eval."""
    lima, davinci = ModelEntryFactory(slug="lima"), ModelEntryFactory(slug="davinci")
    for prompt in eval_set.prompts.all():
        OutputFactory(prompt=prompt, model=lima, text=f"lima answer {prompt.external_id}")
        OutputFactory(prompt=prompt, model=davinci, text=f"davinci answer {prompt.external_id}")
    return lima, davinci


ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def api_server(transactional_db) -> Iterator[str]:
    """gunicorn serving the test database (the rows the test commits), DEBUG off."""
    database = dict(connection.settings_dict)
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/x"))
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": urlunparse(base._replace(path=f"/{database['NAME']}")),
        "DEBUG": "0",
        "SECRET_KEY": "schemathesis-" + "k" * 40,
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_COOKIES": "0",
        # Enough budget that the run exercises the endpoints rather than the throttle.
        "API_THROTTLE_RATE": "1000000/min",
        "API_BULK_THROTTLE_RATE": "1000000/min",
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "evalhub.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", "2", "--timeout", "120", "--log-level", "warning",
         "--limit-request-line", "0"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"{url}/api/schema/", timeout=30).status_code == 200:
                    break
            except requests.RequestException:
                pass
            assert time.monotonic() < deadline and process.poll() is None, "no gunicorn"
            time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
