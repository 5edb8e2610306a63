"""Every preset end to end over HTTP: a Prolific participant rates a small study in the
preset's choices (both rating paths), answers are stored from the target's side, and the
results JSON gives the expected shares for planted verdicts (Arena-Hard's weighted win rate
checked by hand). A custom instrument made through the API is rated too."""

import html
import re

import pytest
from django.test import Client

from evalhub.dashboards.selectors.results import compute_study_results
from evalhub.instruments.selectors import instrument_latest
from evalhub.instruments.services import presets_install
from evalhub.studies.models import Assignment, Judgment
from tests.evalhub.rating.test_crowd_flow import TOKEN, start
from tests.factories import lab_team

pytestmark = pytest.mark.django_db
STUDY_KIND = {"pairwise": "pairwise", "absolute": "absolute", "scale": "likert"}
PRESETS = ["lima-pairwise", "lima-fail-pass-excellent", "arena-4way", "arena-hard-5point",
           "likert-helpfulness", "safety"]  # fmt: skip


def preset_study(make_study, slug: str, prompts: int, **fields):
    presets_install()
    instrument = instrument_latest(team=lab_team(), slug=slug)
    pairwise = instrument.kind == "pairwise"
    return make_study(
        prompts=prompts, baselines=1 if pairwise else 0, kind=STUDY_KIND[instrument.kind],
        instrument=instrument, session_quota=prompts, raters_per_item=1, **fields,
    )  # fmt: skip


@pytest.mark.parametrize("slug", PRESETS)
def test_a_participant_rates_in_the_presets_choices(make_study, slug):
    # Installed here, not left to the data migration: a transactional test that ran before
    # on this xdist worker ended with a flush, which empties the instruments table too.
    presets_install()
    definition = instrument_latest(team=lab_team(), slug=slug).definition
    n = len(definition.choices)
    study = preset_study(make_study, slug, prompts=n)
    client = Client()
    page = start(client, study, pid=f"P{study.pk}")
    for i, choice in enumerate(definition.choices):
        text = page.content.decode()
        assert html.unescape(definition.question) in html.unescape(text)
        for c in definition.choices:  # every choice with its key, in the instrument's order
            assert f"<kbd>{c.key}</kbd>" in text and html.escape(c.label) in text
        token = TOKEN.search(text).group(1)
        side = Assignment.objects.get(rater__sessions__study=study, status="reserved").target_side
        done = client.post(f"/s/{study.crowd_code}/rate/", {"a": token, "choice": choice.value})
        assert done.status_code == 303
        judgment = Judgment.objects.order_by("-id").first()
        assert judgment.raw_choice == choice.value
        if definition.kind == "pairwise":
            expected = "tie" if choice.side == "tie" else (
                "target" if choice.side == side else "baseline")  # fmt: skip
            assert judgment.verdict == expected
        elif definition.kind == "scale":
            assert judgment.score == choice.score
        else:
            assert judgment.verdict == choice.value
        if i < n - 1:
            page = client.get(f"/s/{study.crowd_code}/rate/")
    assert Judgment.objects.filter(item__study=study).count() == n
    wrong = client.get(f"/s/{study.crowd_code}/rate/")
    assert wrong.status_code == 303  # the session is complete


def plant(study, rows):
    """rows: (raw_choice, order, verdict, score) per item, judged by the crowd."""
    items = list(study.items.filter(is_gold=False).order_by("id"))
    for item, (raw, order, verdict, score) in zip(items, rows, strict=True):
        Judgment.objects.create(item=item, judge_group="crowd", raw_choice=raw, order=order,
                                verdict=verdict, score=score)  # fmt: skip


def shares(results, key="baseline"):
    (row,) = [r for r in results["choices"] if r["judge_group"] == "crowd"]
    return {s["value"]: s["count"] for s in row["shares"]}, row


def test_arena_hard_results_give_the_weighted_win_rate_beside_the_plain_one(make_study):
    study = preset_study(make_study, "arena-hard-5point", prompts=4)
    plant(study, [("A>>B", "target_first", "target", None),
                  ("B>>A", "baseline_first", "target", None),  # target shown as B
                  ("A=B", "target_first", "tie", None),
                  ("B>A", "target_first", "baseline", None)])  # fmt: skip
    results = compute_study_results(study)
    counts, _ = shares(results)
    assert counts == {"A>>B": 2, "A>B": 0, "A=B": 1, "B>A": 1, "B>>A": 0}
    (rate,) = results["weighted_win_rate"]
    # By hand: strong wins count 3 times, a tie half: (3 + 3 + 0.5 + 0) / (3 + 3 + 1 + 1).
    assert rate["weighted_win_rate"] == pytest.approx(6.5 / 8)
    assert rate["win_rate"] == pytest.approx(2.5 / 4)
    assert results["instrument_agreement"]["alpha_level"] == "ordinal"  # the instrument's levels
    assert results["instrument"]["slug"] == "arena-hard-5point"
    assert results["instrument"]["version"] == 1
    (pairwise,) = results["pairwise"]  # today's key, unchanged: 2 wins, 1 tie, 1 loss
    assert (pairwise["wins"], pairwise["ties"], pairwise["losses"]) == (2, 1, 1)


def test_arena_4way_both_bad_is_its_own_share_and_a_tie_for_bradley_terry(make_study):
    study = preset_study(make_study, "arena-4way", prompts=4)
    plant(study, [("both_bad", "target_first", "tie", None),
                  ("both_bad", "baseline_first", "tie", None),
                  ("B", "baseline_first", "target", None),
                  ("tie", "target_first", "tie", None)])  # fmt: skip
    results = compute_study_results(study)
    counts, row = shares(results)
    assert counts == {"A": 1, "B": 0, "tie": 1, "both_bad": 2}
    assert row["shares"][3]["share"] == pytest.approx(0.5)
    (pairwise,) = results["pairwise"]
    assert pairwise["tie_share"] == pytest.approx(0.75)  # both bad counts as a tie
    assert results["leaderboard"] is not None


@pytest.mark.parametrize(
    "slug, rows, expected",
    [
        ("safety", [("safe", "single", "safe", None)] * 2 + [("refused", "single", "refused",
                                                                None)],
         {"safe": 2, "unsafe": 0, "refused": 1}),
        ("lima-fail-pass-excellent", [("pass", "single", "pass", None),
                                      ("excellent", "single", "excellent", None),
                                      ("pass", "single", "pass", None)],
         {"fail": 0, "pass": 2, "excellent": 1}),
        ("likert-helpfulness", [("4", "single", "4", 4.0), ("6", "single", "6", 6.0),
                                ("5", "single", "5", 5.0)],
         {"1": 0, "2": 0, "3": 0, "4": 1, "5": 1, "6": 1}),
        ("lima-pairwise", [("A", "target_first", "target", None),
                           ("A", "baseline_first", "baseline", None),
                           ("tie", "target_first", "tie", None)],
         {"A": 1, "B": 1, "tie": 1}),
    ],
)  # fmt: skip
def test_results_give_label_distributions_and_scale_means(make_study, slug, rows, expected):
    study = preset_study(make_study, slug, prompts=3)
    plant(study, rows)
    results = compute_study_results(study)
    counts, _ = shares(results)
    assert counts == expected
    levels = {"safety": "nominal", "lima-pairwise": "nominal"}.get(slug, "ordinal")
    if slug == "likert-helpfulness":
        levels = "interval"
    assert results["instrument_agreement"]["alpha_level"] == levels
    if slug == "likert-helpfulness":
        (mean,) = results["likert"]
        assert mean["mean"] == pytest.approx(5.0) and mean["low"] < 5.0 < mean["high"]


def test_a_custom_instrument_made_through_the_api_is_used_and_rated(make_study, alice):
    from tests.evalhub.api.conftest import client_for

    api = client_for(alice)
    body = {"slug": "tone", "name": "Tone", "kind": "absolute", "question": "What is the tone?",
            "levels": "nominal", "comment": "required",
            "choices": [{"key": 1, "value": "warm", "label": "Warm"},
                        {"key": 2, "value": "cold", "label": "Cold"}]}  # fmt: skip
    assert api.post("/api/v1/instruments/", body, format="json").status_code == 201
    study = make_study(prompts=2, baselines=0, kind="absolute", session_quota=2,
                       raters_per_item=1, instrument=instrument_latest(team=lab_team(), slug="tone"))  # fmt: skip
    client = Client()
    page = start(client, study, pid=f"T{study.pk}").content.decode()
    assert "What is the tone?" in page and "Comment (required)" in page
    token = TOKEN.search(page).group(1)
    refused = client.post(f"/s/{study.crowd_code}/rate/", {"a": token, "choice": "warm"})
    assert refused.status_code == 400 and b"comment" in refused.content
    ok = client.post(
        f"/s/{study.crowd_code}/rate/", {"a": token, "choice": "cold", "comment": "brr"}
    )
    assert ok.status_code == 303
    judgment = Judgment.objects.get(item__study=study)
    assert (judgment.verdict, judgment.comment) == ("cold", "brr")
    results = api.get(f"/api/v1/studies/{study.slug}/results/").json()
    assert results["instrument"]["slug"] == "tone"
    (row,) = results["choices"]
    assert [s["count"] for s in row["shares"]] == [0, 1]
    export = api.get(f"/api/v1/studies/{study.slug}/judgments/?format=jsonl")
    line = b"".join(export.streaming_content).decode().splitlines()[0]
    assert '"instrument": "tone"' in line and '"instrument_version": 1' in line
    assert re.search(r'"raw_choice": "cold"', line)
