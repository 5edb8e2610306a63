"""The rating pages filled into their pre-rendered skeletons are the pages the templates
render."""

import re

import pytest
from django.template.loader import get_template
from django.test import Client, RequestFactory

from evalhub.rating import views
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import SessionKey, rating_view
from evalhub.studies.models import Assignment
from tests.evalhub.rating.test_crowd_flow import enter, start

pytestmark = pytest.mark.django_db
CSRF = "csrf<&>"


@pytest.fixture(autouse=True)
def fixed_csrf_token(monkeypatch):
    monkeypatch.setattr(views, "page_csrf_token", lambda request: CSRF)


@pytest.mark.parametrize("kind", ["pairwise", "absolute"])
def test_the_form_skeleton_is_the_rendered_form(make_study, kind):
    study = make_study(prompts=2, kind=kind, session_quota=2)
    start(Client(), study)
    session = RaterSession.objects.get()
    # The target on the right: a single (absolute) response must still be shown.
    Assignment.objects.filter(pk=session.assignment_id).update(target_side="B")
    view = rating_view(key=SessionKey.crowd(session.token, study.crowd_code))
    here = f"/s/{study.crowd_code}/rate/"
    filled = views._form_page(RequestFactory().get(here), view, here).content.decode()
    context = {**views._form_context(view, here), "csrf_token": CSRF}
    assert filled == get_template("rating/form.html").render(context)
    assert "csrf&lt;&amp;&gt;" in filled and view.assignment_token in filled
    assert view.target_html and view.target_html in filled and view.prompt_html in filled


@pytest.mark.parametrize("kind", ["pairwise", "absolute", "dialogue"])
def test_the_consent_skeleton_is_the_rendered_consent_page(make_study, kind, settings):
    study = make_study(prompts=2, kind=kind, session_quota=7, reservation_seconds=600)
    client = Client()
    enter(client, study)
    filled = client.get(f"/s/{study.crowd_code}/consent/").content.decode()
    settings.DEBUG = True  # renders the template itself, with Django's own CSRF token
    rendered = client.get(f"/s/{study.crowd_code}/consent/").content.decode()
    assert filled == re.sub(
        r'(name="csrfmiddlewaretoken" value=")\w+', r"\1csrf&lt;&amp;&gt;", rendered
    )
    assert (
        "up to 7 items" in filled and "for 10 minutes" in filled and "csrf&lt;&amp;&gt;" in filled
    )
