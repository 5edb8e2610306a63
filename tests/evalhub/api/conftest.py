"""API test fixtures: token-authenticated clients for alice (researcher) and bob (rater),
and a small pairwise setup: a prompt set, a target, a baseline and their outputs."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from evalhub.accounts.services import api_token_create
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, PromptSetFactory


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_create(user=user)[1]}")
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
