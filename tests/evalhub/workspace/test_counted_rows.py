"""Every count of the dashboards opens the rows it counts: the list behind a win / tie /
loss count (evalhub.workspace.headline.counted_rows_url) has exactly that many rows, for a
crowd group beside judgments the results leave out, and for an LLM judge whose two orders
the results combine per item under each inconsistent-pair policy."""

from __future__ import annotations

import re

import pytest

from evalhub.dashboards.cache import study_stats_invalidate
from evalhub.dashboards.selectors import study_results
from evalhub.studies.models import Judgment, Rater, Study
from evalhub.workspace.headline import counted_rows_url
from tests.evalhub.dashboards.conftest import (
    add_human,
    add_llm,
    answer_with_the_lima_instrument,
    build_pairwise_study,
    verdicts_for,
)

pytestmark = pytest.mark.django_db

VERDICTS = {"wins": "target", "ties": "tie", "losses": "baseline"}


@pytest.fixture
def researcher(client, alice):
    client.force_login(alice)
    return client


def rows_in(html: str) -> int:
    return int(re.search(r"(\d+) rows?\b", html).group(1))


@pytest.fixture
def study(db) -> Study:
    """40 prompts x 2 baselines; a crowd group; an LLM judge consistent on some items,
    inconsistent on others, with one item judged in one order only; and judgments the
    results leave out (an attention check, a failed parse, an excluded rater's)."""
    study, items = build_pairwise_study(slug="counts", baselines=["gpt-4", "claude"], n_prompts=40)
    add_human(items, {"gpt-4": verdicts_for(12, 8, 20), "claude": verdicts_for(20, 5, 15)})
    first = {"gpt-4": verdicts_for(10, 10, 20), "claude": verdicts_for(25, 5, 10)}
    second = {"gpt-4": verdicts_for(15, 5, 20), "claude": verdicts_for(20, 10, 10)}
    add_llm(items, first, second)
    # One order only: the item's baseline-first verdict of gpt-4 on q39 is gone.
    Judgment.objects.filter(
        item=items[("gpt-4", 39)], judge_group="llm:gpt-4", order="baseline_first"
    ).delete()
    outsider = Rater.objects.create(group="crowd", external_id_hash="hash-outsider")
    Judgment.objects.bulk_create([
        Judgment(item=items[("gpt-4", 0)], rater=outsider, judge_group="crowd",
                 verdict="baseline", is_attention_check=True),
        Judgment(item=items[("gpt-4", 1)], rater=outsider, judge_group="crowd",
                 verdict="baseline", excluded=True),
        Judgment(item=items[("claude", 2)], judge_group="llm:gpt-4", verdict="target",
                 parse_state=Judgment.ParseState.FAILED),
    ])  # fmt: skip
    study_stats_invalidate(study.pk)
    return study


def assert_every_count_opens_its_rows(researcher, study: Study) -> int:
    """Each (baseline, judge group, verdict) count of the results against its list's rows."""
    checked = 0
    for row in study_results(study)["pairwise"]:
        for key, verdict in VERDICTS.items():
            url = counted_rows_url(study=study, baseline=row["baseline"],
                                   judge_group=row["judge_group"], verdict=verdict)  # fmt: skip
            html = researcher.get(url).content.decode()
            assert rows_in(html) == row[key], (row["judge_group"], row["baseline"], key, url)
            checked += 1
    return checked


@pytest.mark.parametrize("policy", ["tie", "drop", "keep_both"])
def test_every_win_tie_loss_count_opens_exactly_its_rows(researcher, study, policy):
    Study.objects.filter(pk=study.pk).update(inconsistent_pair_policy=policy)
    study.refresh_from_db()
    study_stats_invalidate(study.pk)
    assert assert_every_count_opens_its_rows(researcher, study) == 2 * 2 * 3
    llm = next(r for r in study_results(study)["pairwise"]
               if r["judge_group"] == "llm:gpt-4" and r["baseline"] == "gpt-4")  # fmt: skip
    # Pairs: 10 wins, 5 split (tie first, win second), 5 ties, 19 losses; q39 in one order
    # (a loss). The policy decides how the split pairs count.
    assert (llm["wins"], llm["ties"], llm["losses"]) == {
        "tie": (10, 5 + 5, 20),
        "drop": (10, 5, 20),
        "keep_both": (10 + 5, 5 + 5, 20),
    }[policy]


def test_a_human_count_opens_judgments_and_an_llm_count_opens_items(researcher, study):
    human = counted_rows_url(study=study, baseline="gpt-4", judge_group="crowd", verdict="baseline")
    assert human.startswith(f"/studies/{study.slug}/judgments/?") and "counted=yes" in human
    llm = counted_rows_url(study=study, baseline="gpt-4", judge_group="llm:gpt-4", verdict="tie")
    assert llm.startswith(f"/studies/{study.slug}/items/?")
    answer = researcher.get(
        f"/studies/{study.slug}/counted/?baseline=gpt-4&judge_group=llm:gpt-4&verdict=tie"
    )
    assert answer.status_code == 302 and answer.url == llm
    # The attention check and the excluded judgment are listed without the filter only.
    every = researcher.get(f"/studies/{study.slug}/judgments/?baseline=gpt-4&judge_group=crowd"
                           "&verdict=baseline").content.decode()  # fmt: skip
    assert rows_in(every) == 22 and rows_in(researcher.get(human).content.decode()) == 20


def test_a_category_filter_reaches_the_rows(researcher, study):
    body = study_results(study, category="advice")
    row = next(r for r in body["pairwise"]
               if r["judge_group"] == "crowd" and r["baseline"] == "claude")  # fmt: skip
    url = counted_rows_url(study=study, baseline="claude", judge_group="crowd",
                           verdict="target", category="advice")  # fmt: skip
    assert rows_in(researcher.get(url).content.decode()) == row["wins"] == 10


def test_the_dashboard_links_its_other_counts(researcher, study):
    html = researcher.get(f"/dashboards/studies/{study.slug}/").content.decode()
    results = study_results(study)
    link = re.search(r'href="([^"]+)" id="updated">(\d+) judgments', html)
    assert int(link.group(2)) == results["n_judgments"]
    assert rows_in(researcher.get(link.group(1)).content.decode()) == results["n_judgments"]
    excluded = re.search(r'href="([^"]+)" id="excluded-judgments">(\d+) judgments', html)
    assert int(excluded.group(2)) == results["excluded"]["judgments"] == 1
    assert rows_in(researcher.get(excluded.group(1).replace("&amp;", "&")).content.decode()) == 1
    aggregated = re.findall(r'<td class="num"><a href="([^"]+)" aria-label="(\d+) items', html)
    assert len(aggregated) == len(results["aggregation"]["rows"]) == 2
    for url, n in aggregated:
        assert rows_in(researcher.get(url.replace("&amp;", "&")).content.decode()) == int(n) == 40


def test_the_overview_and_raters_page_link_their_counts(researcher, study):
    overview = researcher.get("/dashboards/").content.decode()
    for label in ("items of Counts", "LLM verdicts on Counts"):
        found = re.search(rf'<a href="([^"]+)" aria-label="(\d+) {label}"', overview)
        url, n = found.group(1).replace("&amp;", "&"), int(found.group(2))
        assert rows_in(researcher.get(url).content.decode()) == n > 0
    raters = researcher.get(f"/dashboards/studies/{study.slug}/raters/").content.decode()
    links = re.findall(r'<a href="([^"]+)" aria-label="(\d+) judgments by rater', raters)
    assert len(links) == 2  # the crowd rater and the outsider
    for url, n in links:
        assert rows_in(researcher.get(url).content.decode()) == int(n)


def test_a_fail_pass_excellent_count_opens_its_judgments(researcher):
    study, items = build_pairwise_study(
        slug="ratings", baselines=[], n_prompts=30, kind=Study.Kind.ABSOLUTE
    )
    add_human(items, {"lima-65b": ["fail"] * 6 + ["pass"] * 15 + ["excellent"] * 9})
    add_llm(items, {"lima-65b": ["pass"] * 20 + ["excellent"] * 10})  # each order counts
    body = study_results(study)
    assert len(body["labels"]) == 2
    for row in body["labels"]:
        for share, verdict in zip(row["shares"], ("fail", "pass", "excellent"), strict=True):
            url = counted_rows_url(study=study, baseline="", judge_group=row["judge_group"],
                                   verdict=verdict)  # fmt: skip
            assert url.startswith(f"/studies/{study.slug}/judgments/?")
            assert rows_in(researcher.get(url).content.decode()) == share["count"]
    llm = next(r for r in body["labels"] if r["judge_group"] == "llm:gpt-4")
    assert [s["count"] for s in llm["shares"]] == [0, 40, 20]
    for row in body["labels"]:  # the row's total, of the rated model
        url = counted_rows_url(study=study, baseline="", judge_group=row["judge_group"],
                               verdict="any", model=row["model"])  # fmt: skip
        assert "model=lima-65b" in url
        assert rows_in(researcher.get(url).content.decode()) == row["n_ratings"]
    assert (
        rows_in(
            researcher.get(
                f"/studies/{study.slug}/judgments/?model=other&counted=yes"
            ).content.decode()
        )
        == 0
    )


def test_an_instrument_judgments_count_opens_its_judgments(researcher, study):
    """The weighted win rate's "Judgments": every counted answer in the instrument, each
    order of an LLM judge apart; a judgment whose raw answer is none of its choices is left
    out of the shares, and so of the list."""
    answer_with_the_lima_instrument(study)
    Judgment.objects.filter(pk=Judgment.objects.filter(judge_group="crowd").order_by("id")
                            .values("pk")[:1]).update(raw_choice="")  # fmt: skip
    study_stats_invalidate(study.pk)
    rates = study_results(study)["weighted_win_rate"]
    assert len(rates) == 4 and sum(r["n"] for r in rates) == 79 + 159
    for r in rates:
        html = researcher.get(
            f"/studies/{study.slug}/judgments/", {"baseline": r["baseline"],
            "judge_group": r["judge_group"], "counted": "yes", "answered": "yes"},
        ).content.decode()  # fmt: skip
        assert rows_in(html) == r["n"], r


@pytest.mark.parametrize("policy", ["tie", "drop", "keep_both"])
def test_a_rows_total_opens_its_rows(researcher, study, policy):
    """The "Counted" total of each win / tie / loss row: a human group's judgments, an LLM
    group's items (keep_both counts a split pair under both verdicts: in the total twice,
    in the list once)."""
    Study.objects.filter(pk=study.pk).update(inconsistent_pair_policy=policy)
    study.refresh_from_db()
    study_stats_invalidate(study.pk)
    for row in study_results(study)["pairwise"]:
        url = counted_rows_url(study=study, baseline=row["baseline"],
                               judge_group=row["judge_group"], verdict="any")  # fmt: skip
        listed = rows_in(researcher.get(url).content.decode())
        split = 5 if policy == "keep_both" and row["judge_group"].startswith("llm:") else 0
        assert listed == row["n_judgments"] - split, (row, url)


def test_each_choice_share_count_opens_its_judgments(researcher, study):
    """The instrument chart's counts, in the target's frame: a raw "A" shown baseline-first
    is a vote for the baseline; clicking a segment opens its judgments (choice=value)."""
    answer_with_the_lima_instrument(study)
    study_stats_invalidate(study.pk)
    body = study_results(study)
    values = [c["value"] for c in body["instrument"]["choices"]]
    checked = 0
    for row in body["choices"]:
        for value, share in zip(values, row["shares"], strict=True):
            html = researcher.get(f"/studies/{study.slug}/judgments/", {
                "baseline": row["baseline"], "judge_group": row["judge_group"],
                "counted": "yes", "choice": value}).content.decode()  # fmt: skip
            assert rows_in(html) == share["count"], (row["judge_group"], value)
            checked += share["count"] > 0
    assert checked >= 8


def test_the_progress_figures_open_the_rows_they_are_made_from(researcher, study):
    """Items with k human judgments (the progress chart's bars), items at quota, and the
    human judgments the capped progress figure is made from."""
    progress = study_results(study)["progress"]
    for k, n in enumerate(progress["judgments_per_item"]):
        html = researcher.get(f"/studies/{study.slug}/items/?counted=yes&human_judgments={k}")
        assert rows_in(html.content.decode()) == n, k
    quota = progress["quota"]
    at_quota = researcher.get(
        f"/studies/{study.slug}/items/?counted=yes&human_judgments={quota}%2B"
    )
    assert rows_in(at_quota.content.decode()) == progress["items_complete"] == 80
    human = researcher.get(f"/studies/{study.slug}/judgments/?kind=human&counted=yes")
    assert rows_in(human.content.decode()) == progress["human_judgments"] == 80
    for llm in progress["llm"]:
        items = researcher.get(f"/studies/{study.slug}/items/", {"judge_group": llm["judge_group"]})
        assert rows_in(items.content.decode()) == llm["items_judged"]


def test_the_study_lists_and_monitor_link_their_counts(researcher, study):
    listing = researcher.get("/studies/").content.decode()
    items = re.search(r'<a href="([^"]+)" aria-label="(\d+) items of Counts"', listing)
    assert rows_in(researcher.get(items.group(1).replace("&amp;", "&")).content.decode()) == 80
    for page in (listing, researcher.get("/dashboards/").content.decode()):
        done = re.search(
            r'<a href="([^"]+)" aria-label="(\d+) of (\d+) human judgments toward', page
        )
        assert "not a row count" in page  # the capped figure says what it is
        opened = researcher.get(done.group(1).replace("&amp;", "&")).content.decode()
        assert rows_in(opened) == 80 and int(done.group(2)) == 80
    Study.objects.filter(pk=study.pk).update(status=Study.Status.LAUNCHED)
    study.items.filter(baseline_output__model__slug="gpt-4").update(judgment_count=1)
    page = researcher.get(f"/studies/{study.slug}/").content.decode()
    at_quota = re.search(r'<a href="([^"]+)" id="monitor-at-quota-link"', page).group(1)
    assert rows_in(researcher.get(at_quota).content.decode()) == 40
    headline = re.findall(r'<a href="([^"]+)" aria-label="(\d+) counted against', page)
    assert len(headline) == 4
    for url, n in headline:
        assert rows_in(researcher.get(url.replace("&amp;", "&"), follow=True).content.decode()) in (
            int(n),
            int(n) - 5,
        )  # an LLM group's split pairs: see test_a_rows_total_opens_its_rows
