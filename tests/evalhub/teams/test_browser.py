"""A member of two teams switches between them in the shell and sees only that team's
studies and dashboards; the owner's team page (members, tokens, audit log) passes axe."""

from __future__ import annotations

from pathlib import Path

import pytest

from evalhub.teams.models import Membership, Role
from evalhub.teams.services import team_create
from tests.browser import assert_accessible
from tests.factories import StudyFactory, UserFactory, lab_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_switching_teams_shows_only_that_teams_studies_and_dashboards(
    researcher_page, live_server, alice
):
    other = team_create(name="Rival lab", slug="rival", owner=UserFactory(username="olga"))
    Membership.objects.create(user=alice, team=other, role=Role.VIEWER)
    StudyFactory(team=lab_team(), slug="lab-study", name="Lab study")
    StudyFactory(team=other, slug="rival-study", name="Rival study")
    page = researcher_page
    page.goto(f"{live_server.url}/studies/")
    studies = page.locator("#studies")
    assert "Lab study" in studies.inner_text() and "Rival study" not in studies.inner_text()
    assert page.locator("#team-link").is_visible()  # alice owns Lab
    assert page.locator("#new-study").is_visible()
    assert_accessible(page)

    page.select_option("#team-select", label="Rival lab (Viewer)")
    page.locator("#team-switcher button").click()
    page.wait_for_url(f"{live_server.url}/studies/")
    studies = page.locator("#studies")
    assert "Rival study" in studies.inner_text() and "Lab study" not in studies.inner_text()
    assert page.locator("#team-link").count() == 0  # a viewer here
    assert page.locator("#new-study").count() == 0  # and nothing they would be refused
    page.screenshot(path=str(SCREENSHOTS / "teams-switched.png"), full_page=True)
    assert_accessible(page)

    page.goto(f"{live_server.url}/dashboards/")
    board = page.locator("main").inner_text()
    assert "Rival study" in board and "Lab study" not in board
    assert not page.problems
    # Another team's study: a 404, as if it did not exist (the browser logs each 404).
    assert page.goto(f"{live_server.url}/studies/lab-study/").status == 404
    assert page.goto(f"{live_server.url}/dashboards/studies/lab-study/").status == 404

    page.goto(f"{live_server.url}/studies/")
    page.select_option("#team-select", label="Lab (Owner)")
    page.locator("#team-switcher button").click()
    page.wait_for_url(f"{live_server.url}/studies/")
    assert "Lab study" in page.locator("#studies").inner_text()
    assert page.goto(f"{live_server.url}/dashboards/studies/rival-study/").status == 404


def test_the_team_page_invites_and_shows_the_audit_log(researcher_page, live_server, alice):
    page = researcher_page
    page.goto(f"{live_server.url}/teams/")
    page.select_option("#invite-role", "researcher")
    page.locator("#invite-form button").click()
    link = page.locator("#invite-link-value").input_value()
    assert "/teams/join/" in link
    assert "Invited a member" in page.locator("#audit").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "teams-page.png"), full_page=True)
    assert_accessible(page)
    assert not page.problems
