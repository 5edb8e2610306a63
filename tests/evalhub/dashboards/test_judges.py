"""The judge leaderboard on a planted study: a judge that copies the humans scores 1.0, a
random one scores near chance, and the intervals say so."""

import random

import pytest
from django.urls import reverse

from evalhub.dashboards.selectors.judges import judge_leaderboard
from tests.evalhub.dashboards.conftest import add_human, add_llm
from tests.factories import lab_team

pytestmark = pytest.mark.django_db

BASELINES = ["alpaca-65b", "davinci003", "bard"]
N = 120


@pytest.fixture
def planted(study_builder):
    study, items = study_builder(slug="judged", baselines=BASELINES, n_prompts=N)
    rng = random.Random(0)
    # Humans prefer the target most against alpaca, least against bard.
    weights = {"alpaca-65b": (6, 1, 1), "davinci003": (4, 2, 2), "bard": (1, 2, 5)}
    human = {b: rng.choices(["target", "tie", "baseline"], weights[b], k=N) for b in BASELINES}
    add_human(items, human)
    add_llm(items, human, slug="copycat")
    noise = {b: rng.choices(["target", "tie", "baseline"], k=N) for b in BASELINES}
    add_llm(items, noise, slug="coin")
    return study


def test_a_copying_judge_scores_one_and_a_random_one_scores_chance(planted):
    rows = {r["judge_group"]: r for r in judge_leaderboard(team=lab_team())}
    assert set(rows) == {"llm:copycat", "llm:coin"}
    copy = rows["llm:copycat"]
    assert copy["study"] == "judged" and copy["instrument"] == "lima_pairwise"
    a = copy["agreement"]
    assert (a["tie_discounted_accuracy"], a["accuracy"], a["cohen_kappa"]) == (1.0, 1.0, 1.0)
    assert a["n_items"] == 3 * N and a["n_prompts"] == N
    assert a["accuracy_interval"]["low"] == 1.0
    assert copy["swap_consistency"] == 1.0
    assert copy["win_rate_spearman"] == pytest.approx(1.0)

    coin = rows["llm:coin"]["agreement"]
    assert coin["cohen_kappa_interval"]["low"] < 0 < coin["cohen_kappa_interval"]["high"]
    assert coin["accuracy_interval"]["low"] < 1 / 3 < coin["accuracy_interval"]["high"]
    assert coin["accuracy_interval"]["high"] < 0.5  # far from the copier: the interval says so
    # Best first.
    assert judge_leaderboard(team=lab_team())[0]["judge_group"] == "llm:copycat"


def test_the_page_and_the_api_show_the_board(planted, client, alice):
    client.force_login(alice)
    page = client.get(reverse("dashboards:judges"))
    assert page.status_code == 200
    assert b"judge-board-data" in page.content and b"llm:copycat" in page.content
    api = client.get("/api/v1/judge-leaderboard/")
    assert api.status_code == 200
    assert {r["judge_group"] for r in api.json()["judges"]} == {"llm:copycat", "llm:coin"}
    schema = client.get("/api/schema/?format=json")
    assert "/api/v1/judge-leaderboard/" in schema.json()["paths"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_board_page_sorts_in_a_browser(researcher_page, live_server, study_builder):
    from tests.browser import assert_accessible

    _study, items = study_builder(slug="judged-live", baselines=BASELINES, n_prompts=20)
    rng = random.Random(1)
    human = {b: rng.choices(["target", "tie", "baseline"], k=20) for b in BASELINES}
    add_human(items, human)
    add_llm(items, human, slug="copycat")
    add_llm(items, {b: rng.choices(["target", "tie", "baseline"], k=20) for b in BASELINES},
            slug="coin")  # fmt: skip
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/judges/")
    rows = page.locator("#judge-board-rows tr")
    rows.first.wait_for()
    assert rows.count() == 2
    assert rows.first.locator("td").first.text_content() == "llm:copycat"
    assert "judged-live" in rows.first.locator("td").nth(1).text_content()
    # Sorting by accuracy twice puts the worse judge first.
    button = page.locator("button.sort[data-key='agreement.accuracy']")
    button.click()
    button.click()
    assert rows.first.locator("td").first.text_content() == "llm:coin"
    assert_accessible(page)
    assert page.problems == []
