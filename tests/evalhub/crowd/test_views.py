"""The raters page over HTTP: the table, actions with their errors, Prolific uploads."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evalhub.audit.selectors import object_history
from evalhub.crowd.models import RaterExclusion
from evalhub.studies.models import Judgment
from evalhub.studies.services import study_close

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, alice):
    client.force_login(alice)
    return client


def test_the_page_lists_raters_sorted_and_the_dashboard_links_it(logged_in, crowd_study):
    study, made = crowd_study
    page = logged_in.get(f"/dashboards/studies/{study.slug}/raters/?sort=-left_share")
    assert page.status_code == 200
    html = page.content.decode()
    first = html.index('data-rater="')
    assert int(html[first + 12 : html.index('"', first + 12)]) in made["left"]
    assert "12 flagged" in html and "0 raters excluded (0 judgments)" in html
    dashboard = logged_in.get(f"/dashboards/studies/{study.slug}/").content.decode()
    assert f'href="/dashboards/studies/{study.slug}/raters/"' in dashboard
    assert "Dawid\u2013Skene" in dashboard


def test_bad_actions_say_why_and_write_nothing(logged_in, crowd_study):
    study, made = crowd_study
    url = f"/dashboards/studies/{study.slug}/raters/action/"
    unknown = logged_in.post(url, {"action": "exclude", "rater": ["424242"], "reason": "x"})
    assert unknown.status_code == 400 and "no rater 424242" in unknown.content.decode()
    no_reason = logged_in.post(url, {"action": "exclude", "rater": [made["left"][0]]})
    assert no_reason.status_code == 400 and "reason" in no_reason.content.decode()
    study_close(study=study)
    closed = logged_in.post(url, {"action": "exclude-flagged", "reason": "late"})
    assert closed.status_code == 409 and "closed" in closed.content.decode()
    assert not Judgment.objects.filter(excluded=True).exists()
    assert not RaterExclusion.objects.exists()


def test_a_malformed_prolific_file_is_named(logged_in, crowd_study):
    study, _ = crowd_study
    upload = SimpleUploadedFile("export.csv", b"Status\nAPPROVED\n", content_type="text/csv")
    response = logged_in.post(
        f"/dashboards/studies/{study.slug}/raters/prolific/", {"export": upload}
    )
    assert response.status_code == 400
    assert "line 1: header: no participant id column" in response.content.decode()


def test_raters_and_anonymous_users_are_kept_out(client, bob, crowd_study):
    study, _ = crowd_study
    assert client.get(f"/dashboards/studies/{study.slug}/raters/").status_code == 302
    client.force_login(bob)
    assert client.get(f"/dashboards/studies/{study.slug}/raters/").status_code == 403


def test_saved_quality_rules_are_recorded_and_shown_with_the_study_settings(logged_in, crowd_study):
    study, _ = crowd_study
    url = f"/dashboards/studies/{study.slug}/raters/rules/"
    logged_in.post(url, {"bonus_per_judgment": "0.05", "spam_odds": "50"})
    logged_in.post(url, {"bonus_per_judgment": "0.05", "spam_odds": "50"})  # no change
    (edit,) = [e for e in object_history(study, team=study.team) if e.action == "settings.change"]
    assert edit.actor.username == "alice" and edit.at is not None
    assert (edit.before, edit.after) == (
        {"quality_rules": {}},
        {"quality_rules": {"bonus_per_judgment": "0.05", "spam_odds": 50.0}},
    )
    settings = logged_in.get(f"/studies/{study.slug}/settings/").content.decode()
    assert "spam_odds" in settings and "alice" in settings
