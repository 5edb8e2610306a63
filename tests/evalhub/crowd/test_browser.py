"""The raters page in a real browser (Playwright, Debian's Chromium): sort, exclude a
flagged rater with a reason, see the dashboard change, match a Prolific export and
download the three lists."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evalhub.crowd.selectors import raters_table
from evalhub.rating.models import RaterSession
from evalhub.rating.services import participant_hash, session_start_crowd
from evalhub.studies.models import GoldPrompt, Item, Rater
from tests.browser import assert_accessible
from tests.evalhub.crowd.simulation import TRUTH
from tests.evalhub.dashboards.test_difficulty_fit import _consuming
from tests.support import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_a_researcher_excludes_a_flagged_rater_and_pays_on_prolific(
    researcher_page, live_server, crowd_study
):
    study, made = crowd_study
    study.quality_rules = {"bonus_per_judgment": "0.10"}
    study.save(update_fields=["quality_rules"])
    done = session_start_crowd(study=study, participant_id="PIDDONE")
    RaterSession.objects.filter(pk=done.pk).update(status="completed")
    out = session_start_crowd(study=study, participant_id="PIDOUT")
    RaterSession.objects.filter(pk=out.pk).update(status="screened_out", attention_failures=2)

    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    assert page.locator("#excluded-note").inner_text() == "0 raters excluded (0 judgments)"
    assert_accessible(page)
    page.locator("#raters-link").click()
    page.wait_for_url(f"**/dashboards/studies/{study.slug}/raters/")
    assert_accessible(page)

    # Sort by the left share, descending (the second click on the heading).
    page.locator("a[data-sort='left_share']").click()
    page.wait_for_url("**sort=left_share**")
    page.locator("a[data-sort='left_share']").click()
    page.wait_for_url("**sort=-left_share**")
    first = page.locator("#raters-table tbody tr").first
    rater = int(first.get_attribute("data-rater"))
    assert rater in made["left"] and "position_bias" in first.inner_text()
    assert page.locator("th[aria-sort='descending'] a[data-sort='left_share']").count() == 1

    # Exclude it, with a reason.
    first.locator("input[type=checkbox]").check()
    page.locator("#reason").fill("always the left answer")
    page.locator("button[value='exclude']").click()
    page.wait_for_selector("text=1 raters excluded (60 judgments).")
    assert page.locator(f"tr[data-rater='{rater}'][data-excluded]").count() == 1
    assert page.locator("#excluded-summary").inner_text() == "1 raters excluded (60 judgments)"
    assert (
        "always the left answer"
        in page.locator("text=Exclusion history").locator("..").inner_text()
    )
    assert_accessible(page)

    # The dashboard changed.
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    assert page.locator("#excluded-note").inner_text() == "1 raters excluded (60 judgments)"
    assert page.locator("#updated").inner_text().startswith("1380 judgments")

    # Each item's aggregated labels download from beside the aggregation table.
    with page.expect_download() as info:
        page.locator("#aggregation a", has_text="item labels (CSV)").click()
    assert info.value.suggested_filename == f"{study.slug}-item-labels.csv"
    with open(info.value.path(), encoding="utf-8") as f:
        lines = f.read().splitlines()
    assert lines[0] == (
        "item,prompt,target,baseline,votes,majority,reliability_weighted,reliability_weighted_state"
    )
    assert len(lines) == 101  # one row per item
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#aggregation").screenshot(path=str(SCREENSHOTS / "crowd-aggregation.png"))

    # Prolific: upload the export, download the three lists.
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/raters/")
    export = b"Submission id,Participant id,Status\ns1,PIDDONE,AWAITING REVIEW\ns2,PIDOUT,AWAITING REVIEW\ns3,PIDWHO,AWAITING REVIEW\n"
    page.locator("#export").set_input_files(
        files=[{"name": "prolific.csv", "mimeType": "text/csv", "buffer": export}]
    )
    page.locator("button", has_text="Match").click()
    page.wait_for_selector("#prolific-result")
    assert page.locator("#unmatched").inner_text() == "PIDWHO"
    assert_accessible(page)
    got = {}
    for which in ("approve", "reject", "bonus"):
        with page.expect_download() as info:
            page.locator(f"#download-{which}").click()
        download = info.value
        assert download.suggested_filename == f"{study.slug}-prolific-{which}.csv"
        with open(download.path(), encoding="utf-8") as f:
            got[which] = f.read()
    assert got == {
        "approve": "participant_id\nPIDDONE\n",
        "reject": "participant_id,rejection_category,message\n"
        "PIDOUT,FAILED_CHECK,failed 2 attention checks\n",
        "bonus": "participant_id,amount\n",  # no judgments yet: no bonus
    }
    assert page.problems == []


def test_a_researcher_marks_gold_sets_a_bonus_and_pays_exactly_the_honest_raters(
    celery_worker, researcher_page, live_server, crowd_study
):
    study, made = crowd_study
    # The simulated raters become Prolific participants PID<rater id>.
    for rater in Rater.objects.filter(pk__in=[r for ids in made.values() for r in ids]):
        rater.external_id_hash = participant_hash(f"PID{rater.pk}")
        rater.save(update_fields=["external_id_hash"])
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/raters/")

    # Mark three prompts as gold with the planted truth.
    rng = np.random.default_rng(0)
    items = list(Item.objects.filter(study=study, is_gold=False).order_by("id"))
    truth = rng.choice(3, size=len(items), p=TRUTH)
    page.locator("#gold summary").click()
    _consuming(celery_worker, on=False)  # the refit the gold prompts ask for waits a while
    for item, t in zip(items[:3], truth[:3], strict=True):
        page.locator(f"select[name='gold:{item.prompt.external_id}']").select_option(
            ("baseline", "tie", "target")[int(t)]
        )
    page.locator("#save-gold").click()
    page.wait_for_selector("text=Gold prompts saved (3 marked in this form).")
    assert GoldPrompt.objects.filter(study=study).count() == 3
    assert_accessible(page)

    # A flag shows its evidence.
    left = page.locator(f"tr[data-rater='{made['left'][0]}'] [data-flag='position_bias']")
    assert "chose the left answer 60 of 60 times (p < 0.001" in left.inner_text()

    # A bonus rule, set in the workspace.
    page.locator("#bonus_per_judgment").fill("0.05")
    page.locator("#save-rules").click()
    page.wait_for_selector("text=Quality rules saved.")
    assert page.locator("#bonus_per_judgment").input_value() == "0.05"

    # The gold prompts changed the flags: a worker fits the spam test to them, and until
    # then "exclude every flagged rater" is refused (it would miss whom that test flags).
    page.locator("#reason").fill("spam")
    assert page.locator("strong[data-state='updating']").count() == 1
    page.locator("button[value='exclude-flagged']").click()
    page.wait_for_selector("text=the spam test is updating")
    assert_accessible(page)
    # That refusal was a 409 on purpose; the console reports it as a failed load.
    assert [p for p in page.problems if "409 (Conflict)" not in p] == []
    page.problems.clear()
    _consuming(celery_worker, on=True)
    wait_until(lambda: raters_table(study)["reliability_current"], timeout=120)
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/raters/")
    assert page.locator("strong[data-state]").count() == 0

    # Exclude every flagged rater: exactly the spammers.
    page.locator("#reason").fill("spam")
    page.locator("button[value='exclude-flagged']").click()
    page.wait_for_selector("text=12 raters excluded (720 judgments).")
    assert_accessible(page)

    # Prolific's export: two honest raters returned their submission.
    returned = made["honest"][:2]
    rows = "".join(
        f"s{r},PID{r},{'RETURNED' if r in returned else 'AWAITING REVIEW'}\n"
        for ids in made.values() for r in ids
    )  # fmt: skip
    export = ("Submission id,Participant id,Status\n" + rows).encode()
    page.locator("#export").set_input_files(
        files=[{"name": "prolific.csv", "mimeType": "text/csv", "buffer": export}]
    )
    page.locator("button", has_text="Match").click()
    page.wait_for_selector("#prolific-result")
    assert page.locator("#skipped-count").inner_text() == "2"
    assert_accessible(page)
    got = {}
    for which in ("approve", "reject", "bonus"):
        with page.expect_download() as info:
            page.locator(f"#download-{which}").click()
        with open(info.value.path(), encoding="utf-8") as f:
            got[which] = f.read().splitlines()[1:]
    paid = sorted(f"PID{r}" for r in made["honest"] if r not in returned)
    assert sorted(got["approve"]) == paid
    spammers = [r for kind in ("random", "left", "fast") for r in made[kind]]
    assert sorted(got["reject"]) == sorted(f"PID{r},LOW_EFFORT,spam" for r in spammers)
    assert sorted(got["bonus"]) == [f"{pid},3.00" for pid in paid]  # 60 judgments x 0.05
    assert page.problems == []
