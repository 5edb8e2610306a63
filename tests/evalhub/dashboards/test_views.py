"""The dashboard pages: researchers only; data, downloads."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.urls import reverse

from tests.evalhub.crowd.fixtures import crowd_fit_land
from tests.evalhub.dashboards.conftest import add_human, add_llm

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_study(study_builder):
    study, items = study_builder(slug="small", baselines=["bard", "claude"], n_prompts=4)
    add_human(items, {"bard": ["target", "tie", "baseline", "target"],
                      "claude": ["baseline", "baseline", "tie", "target"]})  # fmt: skip
    add_llm(items, {"bard": ["target", "target", "baseline", "tie"]})
    return study


def _urls(study) -> list[str]:
    return [
        reverse("dashboards:overview"),
        reverse("dashboards:study", args=[study.slug]),
        reverse("dashboards:study_data", args=[study.slug]),
        reverse("dashboards:study_export", args=[study.slug, "csv"]),
        reverse("dashboards:study_item_labels", args=[study.slug, "csv"]),
    ]


def test_anonymous_users_are_sent_to_log_in(client, small_study):
    for url in _urls(small_study):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("accounts:login") + "?next=")


def test_raters_are_refused(client, bob, small_study):
    client.force_login(bob)
    for url in _urls(small_study):
        assert client.get(url).status_code == 403, url


def test_the_overview_lists_studies_and_the_leaderboard(client, alice, small_study):
    client.force_login(alice)
    response = client.get(reverse("dashboards:overview"))
    assert response.status_code == 200
    page = response.content.decode()
    assert reverse("dashboards:study", args=["small"]) in page
    board = response.context["leaderboard"]
    assert {m["model"] for m in board["models"]} >= {"lima-65b", "bard", "claude"}
    (row,) = [r for r in response.context["studies"] if r["slug"] == "small"]
    assert (row["items"], row["judgments_done"], row["llm_judgments"]) == (8, 8, 8)


def test_the_study_page_embeds_the_results_and_loads_plotly_locally(client, alice, small_study):
    client.force_login(alice)
    response = client.get(reverse("dashboards:study", args=["small"]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/vendor/plotly-strict.min.js" in page
    assert "cdn.plot.ly" not in page and not re.search(r"src=\"https?://", page)
    assert 'id="chart-wtl"' in page and 'id="chart-agreement"' in page
    embedded = response.context["results"]
    assert {(r["baseline"], r["judge_group"]) for r in embedded["pairwise"]} == {
        ("bard", "crowd"), ("claude", "crowd"), ("bard", "llm:gpt-4")
    }  # fmt: skip


def test_the_data_endpoint_applies_filters(client, alice, small_study):
    client.force_login(alice)
    url = reverse("dashboards:study_data", args=["small"])
    body = client.get(url, {"group": "llm:gpt-4", "category": "advice"}).json()
    assert body["filters"]["groups"] == ["llm:gpt-4"] and body["filters"]["category"] == "advice"
    (row,) = body["pairwise"]
    # advice = prompts 0 and 2: GPT-4 said target, then baseline.
    assert (row["judge_group"], row["wins"], row["losses"]) == ("llm:gpt-4", 1, 1)
    assert client.get(reverse("dashboards:study_data", args=["nope"])).status_code == 404


def test_raw_judgments_download_as_csv_and_jsonl(client, alice, small_study):
    client.force_login(alice)
    response = client.get(reverse("dashboards:study_export", args=["small", "csv"]))
    assert response.status_code == 200 and response.streaming
    assert 'filename="small-judgments.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert len(rows) == 16 and {r["judge_group"] for r in rows} == {"crowd", "llm:gpt-4"}
    response = client.get(reverse("dashboards:study_export", args=["small", "jsonl"]))
    lines = b"".join(response.streaming_content).decode().splitlines()
    assert len(lines) == 16 and json.loads(lines[0])["study"] == "small"
    assert client.get(reverse("dashboards:study_export", args=["small", "xlsx"])).status_code == 404


def test_each_items_aggregated_labels_download_as_csv_and_jsonl(client, alice, small_study):
    client.force_login(alice)
    crowd_fit_land(small_study)  # bulk-loaded: the worker's one-coin fit, made here
    page = client.get(reverse("dashboards:study", args=["small"])).content.decode()
    assert reverse("dashboards:study_item_labels", args=["small", "csv"]) in page
    response = client.get(reverse("dashboards:study_item_labels", args=["small", "csv"]))
    assert response.status_code == 200
    assert 'filename="small-item-labels.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    # One human verdict per item (add_human): both aggregates are that verdict.
    assert len(rows) == 8
    for row in rows:
        (verdict,) = [v for v, n in json.loads(row["votes"]).items() if n]
        assert row["majority"] == row["reliability_weighted"] == verdict
    response = client.get(reverse("dashboards:study_item_labels", args=["small", "jsonl"]))
    lines = [json.loads(line) for line in response.content.decode().splitlines()]
    assert [r["item"] for r in lines] == [int(r["item"]) for r in rows]
    xlsx = reverse("dashboards:study_item_labels", args=["small", "xlsx"])
    assert client.get(xlsx).status_code == 404
