"""The data and editing pages in Chromium: browse a prompt set to an output and its
provenance, open the judgments behind a study-page count and the items behind a dashboard
count, edit and delete a draft, rename a prompt set and a model, have the deletion (and the
renaming) of a model a launched study uses refused, and a job that waits for a worker.
axe-core on every page (0 serious or critical); screenshots in docs/screenshots/."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalhub.jobs.models import Job
from evalhub.outputs.models import ModelEntry, Output
from evalhub.prompts.models import PromptSet
from evalhub.studies.models import Item, Study
from evalhub.studies.services import study_create, study_launch
from tests.browser import assert_accessible
from tests.evalhub.dashboards.conftest import (
    add_human,
    add_llm,
    build_pairwise_study,
    verdicts_for,
)
from tests.factories import lab_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def checked(page) -> None:
    page.wait_for_load_state("load")
    assert_accessible(page)
    assert page.problems == []


@pytest.fixture
def study(db):
    study, items = build_pairwise_study(slug="lima", baselines=["gpt-4", "claude-2"], n_prompts=75)
    add_human(items, {"gpt-4": verdicts_for(31, 4, 40), "claude-2": verdicts_for(30, 15, 30)})
    output = Output.objects.filter(model__slug="lima-65b").order_by("id").first()
    output.provenance = {"engine": "vllm 0.11.0", "seed": 1234, "temperature": 0.7,
                         "chat_template_sha256": "ab12" * 16, "finish_reason": "stop"}  # fmt: skip
    output.save()
    return study


def test_a_researcher_browses_a_prompt_set_to_an_output_and_its_provenance(
    researcher_page, live_server, study
):
    page = researcher_page
    page.goto(f"{live_server.url}/prompt-sets/")
    checked(page)
    page.click("a[href='/prompt-sets/lima-set/']>> nth=0")
    page.wait_for_selector("#prompts")
    checked(page)
    assert "75 rows · page 1 of 2" in page.text_content(".pager")
    page.fill("input[name=q]", "Question 0?")
    with page.expect_navigation():
        page.click("form[role=search] button")
    assert page.locator("#prompts tbody tr").count() == 1
    shot(page, "12-prompt-set")
    with page.expect_navigation():
        page.click("#prompts tbody tr a >> nth=0")
    checked(page)
    assert page.locator("#outputs tbody tr").count() == 3
    with page.expect_navigation():
        page.click("#outputs a:text('lima-65b')")
    checked(page)
    provenance = page.text_content("#provenance")
    assert (
        "vllm 0.11.0" in provenance
        and "1234" in provenance
        and "chat_template_sha256" in provenance
    )
    shot(page, "13-output-provenance")


def test_a_study_page_count_opens_the_judgments_it_counts_and_their_items(
    researcher_page, live_server, study
):
    page = researcher_page
    page.goto(f"{live_server.url}/studies/{study.slug}/")
    checked(page)
    row = page.locator("#headline-table tr", has_text="gpt-4")
    assert "31 / 4 / 40 (41% / 5% / 53%)" in " ".join(row.text_content().split())
    shot(page, "14-study-headline")
    with page.expect_navigation():
        page.click("a[aria-label='40 losses against gpt-4 by crowd']")
    checked(page)
    assert "40 rows" in page.text_content(".pager")
    assert all(v == "Baseline better" for v in
               page.locator("#judgments tbody td:nth-child(5)").all_text_contents())  # fmt: skip
    shot(page, "15-judgments")
    with page.expect_navigation():
        page.click("#judgments tbody tr >> nth=0 >> a >> nth=1")
    checked(page)
    assert "gpt-4 (baseline)" in page.text_content("main")
    assert "crowd" in page.text_content("#aggregate")
    shot(page, "16-item")
    page.goto(f"{live_server.url}/studies/{study.slug}/items/?baseline=gpt-4&verdict=baseline")
    checked(page)
    assert "40 rows" in page.text_content(".pager")
    page.goto(f"{live_server.url}/models/lima-65b/outputs/")
    checked(page)
    shot(page, "17-model-outputs")


def test_a_draft_is_edited_and_deleted_and_a_used_model_is_refused(
    researcher_page, live_server, study
):
    page = researcher_page
    study_create(team=lab_team(), slug="draft-1", name="Draft one", prompt_set=study.prompt_set,
                 target_model=study.target_model,
                 baselines=[ModelEntry.objects.get(slug="gpt-4")])  # fmt: skip
    page.goto(f"{live_server.url}/studies/draft-1/")
    checked(page)
    with page.expect_navigation():
        page.click("#edit-link")
    checked(page)
    page.fill("input[name=name]", "Draft, renamed")
    page.fill("input[name=raters_per_item]", "5")
    shot(page, "18-edit-draft")
    with page.expect_navigation():
        page.click("#study-save")
    checked(page)
    assert Study.objects.get(slug="draft-1").raters_per_item == 5
    assert "Draft, renamed" in page.text_content("h1")
    with page.expect_navigation():
        page.click("#delete-link")
    checked(page)
    with page.expect_navigation():
        page.click("#confirm-delete")
    checked(page)
    assert not Study.objects.filter(slug="draft-1").exists()

    # claude-2 is a baseline of the launched study: its deletion is refused, with the reason.
    page.goto(f"{live_server.url}/models/claude-2/")
    checked(page)
    with page.expect_navigation():
        page.click("#delete-link")
    with page.expect_navigation() as refused:
        page.click("#confirm-delete")
    assert refused.value.status == 409  # the page answers the refusal as a conflict
    page.problems.remove(
        "Failed to load resource: the server responded with a status of 409 (Conflict)"
    )
    checked(page)
    assert "launched studies use it (lima)" in page.text_content("#refused")
    shot(page, "19-delete-refused")
    assert ModelEntry.objects.filter(slug="claude-2").exists()

    # Prolific codes of the running study change, and the change is recorded.
    page.goto(f"{live_server.url}/studies/{study.slug}/settings/")
    checked(page)
    page.fill("input[name=completion_code]", "C0MPLETE")
    with page.expect_navigation():
        page.click("#settings-save")
    checked(page)
    assert "C0MPLETE" in page.text_content("#edits")
    shot(page, "20-running-settings")


def test_a_job_page_says_no_worker_listens_on_its_queue(researcher_page, live_server):
    page = researcher_page
    job = Job.objects.create(
        kind="import", queue="nobody-here", dispatched_at=None, team=lab_team()
    )
    page.goto(f"{live_server.url}/jobs/{job.pk}/")
    page.wait_for_function("!document.getElementById('job-waiting').hidden")
    assert "no worker is listening on queue nobody-here" in page.text_content("#job-waiting")
    checked(page)
    shot(page, "21-job-waiting")


def test_the_rater_preview_jumps_to_any_item(researcher_page, live_server, study):
    draft = study_create(team=lab_team(), slug="draft-2", name="Draft two", prompt_set=study.prompt_set,
                         target_model=study.target_model,
                         baselines=[ModelEntry.objects.get(slug="gpt-4")],
                         attention_check_rate=0)  # fmt: skip
    study_launch(study=draft)
    page = researcher_page
    page.goto(f"{live_server.url}/studies/draft-2/preview/1/")
    assert "Item 1 of 75" in page.text_content(".preview-nav")
    page.fill("#preview-jump", "60")
    with page.expect_navigation():
        page.click("#preview-go")
    assert page.url.endswith("/studies/draft-2/preview/60/")
    assert "Item 60 of 75" in page.text_content(".preview-nav")
    checked(page)
    shot(page, "22-preview-jump")


def test_a_dashboard_segment_opens_the_judgments_it_counts(researcher_page, live_server, study):
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    page.wait_for_function(
        "!!(document.getElementById('chart-wtl').data && document.getElementById('chart-wtl').on)",
        timeout=30_000,
    )
    # Rows in order of human win share: gpt-4 (31 / 75) first; the third trace is the losses.
    segment = page.locator("#chart-wtl .barlayer .trace").nth(2).locator(".point path").first
    segment.hover(force=True)  # plotly clicks the point under its hover
    page.wait_for_selector("#chart-wtl .hoverlayer .hovertext")
    box = segment.bounding_box()
    with page.expect_navigation():
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert "/studies/lima/judgments/?" in page.url and "verdict=baseline" in page.url
    assert "baseline=gpt-4" in page.url and "judge_group=crowd" in page.url
    assert "40 rows" in page.text_content(".pager")
    checked(page)


def rows_listed(page) -> int:
    """The list's row count, from its pager ("40 rows · page 1 of 1")."""
    return int(page.text_content(".pager").split()[0])


def test_a_dashboard_count_opens_the_items_it_counts(researcher_page, live_server, study):
    # An LLM judge in both orders: consistent on most items, split on 5 per baseline.
    found = Item.objects.filter(study=study).select_related("prompt", "baseline_output__model")
    items = {(i.baseline_output.model.slug, int(i.prompt.external_id[1:])): i for i in found}
    add_llm(items, {"gpt-4": verdicts_for(20, 10, 45), "claude-2": verdicts_for(35, 5, 35)},
            {"gpt-4": verdicts_for(25, 5, 45), "claude-2": verdicts_for(35, 5, 35)})  # fmt: skip
    page = researcher_page
    page.goto(f"{live_server.url}/dashboards/studies/{study.slug}/")
    page.wait_for_function("document.querySelectorAll('#wtl-counts tbody tr').length === 4")
    checked(page)
    row = page.locator("#wtl-counts tbody tr[data-baseline='gpt-4'][data-group='llm:gpt-4']")
    # 20 consistent wins, 5 split pairs (a tie by the study's policy) + 5 ties, 45 losses.
    assert row.locator("td").all_text_contents() == [
        "gpt-4", "llm:gpt-4", "20 / 10 / 45 (27% / 13% / 60%)", "75"]  # fmt: skip
    page.locator("#wtl-counts").scroll_into_view_if_needed()
    shot(page, "23-dashboard-counts")
    # The 45 losses to gpt-4 by the LLM judge: 45 items, each shown once.
    with page.expect_navigation():
        row.get_by_label("45 losses against gpt-4 by llm:gpt-4").click()
    checked(page)
    assert "/studies/lima/items/?" in page.url and "counted=yes" in page.url
    assert rows_listed(page) == 45
    assert page.locator("#items tbody tr").count() == 45  # one page of 50
    assert "two orders combined" in page.text_content("#counted-note")
    shot(page, "24-counted-items")
    # Every count of the table opens as many rows as it says.
    page.go_back()
    page.wait_for_function("document.querySelectorAll('#wtl-counts tbody a').length === 16")
    links = page.eval_on_selector_all(
        "#wtl-counts tbody a", "links => links.map((a) => [a.href, Number(a.textContent)])"
    )
    for href, count in links:
        page.goto(href)
        assert rows_listed(page) == count, href


def test_the_rename_and_replace_pages_are_accessible(researcher_page, live_server, study):
    page = researcher_page
    PromptSet.objects.create(team=lab_team(), slug="spare-set", name="Spare set")
    ModelEntry.objects.create(team=lab_team(), slug="spare-model", name="Spare model")
    page.goto(f"{live_server.url}/prompt-sets/spare-set/edit/")
    checked(page)
    page.fill("input[name=name]", "Spare prompts, renamed")
    page.fill("input[name=slug]", "spare-prompts")
    shot(page, "25-rename-prompt-set")
    with page.expect_navigation():
        page.click("#rename-save")
    checked(page)
    assert page.url.endswith("/prompt-sets/spare-prompts/")
    assert PromptSet.objects.get(slug="spare-prompts").name == "Spare prompts, renamed"
    page.goto(f"{live_server.url}/models/spare-model/edit/")
    checked(page)
    page.fill("input[name=name]", "Spare model, renamed")
    with page.expect_navigation():
        page.click("#rename-save")
    checked(page)
    assert ModelEntry.objects.get(slug="spare-model").name == "Spare model, renamed"

    # gpt-4 is a baseline of the launched study: renaming it is refused, with the reason.
    page.goto(f"{live_server.url}/models/gpt-4/edit/")
    page.fill("input[name=name]", "GPT-4, renamed")
    with page.expect_navigation():
        page.click("#rename-save")
    checked(page)
    assert "launched studies use it (lima)" in page.text_content("#refused")
    assert ModelEntry.objects.get(slug="gpt-4").name == "gpt-4"
    shot(page, "26-rename-refused")

    # The other confirmation pages: a prompt set's deletion, and replacing an upload.
    page.goto(f"{live_server.url}/prompt-sets/spare-prompts/delete/")
    checked(page)
    page.goto(f"{live_server.url}/models/lima-65b/outputs/lima-set/replace/")
    checked(page)
