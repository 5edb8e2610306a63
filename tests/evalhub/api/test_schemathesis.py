"""schemathesis against the live schema of a real server (pytest-django's live_server).

Every operation is called with generated requests (at least 500 in all) with a researcher's
token, once with any path parameters and once with ones naming seeded rows; the run fails
on any 5xx, an undocumented status or content type, or a body that breaks the schema."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from rest_framework.settings import api_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from evalhub.accounts.services import api_token_create
from evalhub.jobs.models import Job
from evalhub.studies.models import Item, Judgment
from evalhub.studies.services import study_launch
from tests.factories import (
    ModelEntryFactory,
    OutputFactory,
    PromptFactory,
    PromptSetFactory,
    StudyFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES_PER_RUN = 18  # x 2 runs x 22 operations: ~790 requests at most
MIN_REQUESTS = 500
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@schemathesis.serializer("application/x-ndjson")
def _ndjson(context: Any, value: Any) -> bytes:
    rows = value if isinstance(value, list) else [value]
    return "\n".join(json.dumps(row) for row in rows).encode()


@pytest.fixture
def seeded(alice) -> dict[str, Any]:
    """A launched pairwise study with judgments, a judge, a job; path values naming them."""
    prompt_set = PromptSetFactory(slug="eval")
    lima, davinci = ModelEntryFactory(slug="lima"), ModelEntryFactory(slug="davinci")
    for i in range(3):
        prompt = PromptFactory(prompt_set=prompt_set, external_id=f"q{i}", text=f"Q{i}?")
        OutputFactory(prompt=prompt, model=lima)
        OutputFactory(prompt=prompt, model=davinci)
    study = StudyFactory(slug="pw", prompt_set=prompt_set, target_model=lima,
                         raters_per_item=1, attention_check_rate=0)  # fmt: skip
    study.baselines.add(davinci)
    study_launch(study=study)
    items = Item.objects.filter(study=study).order_by("id")
    for item, verdict in zip(items, ["target", "tie", "baseline"], strict=True):
        Judgment.objects.create(item=item, judge_group="crowd", verdict=verdict)
    job = Job.objects.create(kind="judge", queue="judge", requested_by=alice)
    return {"token": api_token_create(user=alice)[1], "job_id": job.pk}


def _known_path_values(path: str, seeded: dict[str, Any]) -> dict[str, Any]:
    if "{job_id}" in path:
        return {"job_id": seeded["job_id"]}
    for prefix, slug in (("/api/v1/prompt-sets/", "eval"), ("/api/v1/studies/", "pw"),
                         ("/api/v1/models/", "lima")):  # fmt: skip
        if path.startswith(prefix) and "{slug}" in path:
            return {"slug": slug}
    return {}


def test_the_live_schema_holds_for_generated_requests(live_server, seeded, settings):
    # Enough budget that the run exercises the endpoints rather than the throttle.
    rates = {"token": "100000/min", "bulk": "100000/min"}
    settings.REST_FRAMEWORK = {**api_settings.user_settings, "DEFAULT_THROTTLE_RATES": rates}
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    session = requests.Session()
    headers = {"Authorization": f"Token {seeded['token']}"}
    calls: Counter[str] = Counter()
    statuses: Counter[int] = Counter()

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        known = _known_path_values(operation.path, seeded)
        for path_values in [None, known] if known else [None]:

            @given(case=operation.as_strategy(path_parameters=path_values, headers=headers))
            @hypothesis_settings(
                max_examples=EXAMPLES_PER_RUN,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def call(case: schemathesis.Case) -> None:
                response = case.call_and_validate(session=session, headers=headers, checks=CHECKS)
                calls[case.operation.label] += 1
                statuses[response.status_code] += 1

            call()

    assert sum(calls.values()) >= MIN_REQUESTS, calls
    # The run reached real rows, not only 404s.
    assert statuses[200] > 50 and statuses[400] > 20, statuses
