"""The rating form filled into its pre-rendered skeleton is the page the template renders."""

import pytest
from django.template.loader import get_template
from django.test import RequestFactory

from evalhub.rating import views
from evalhub.rating.models import RaterSession
from evalhub.rating.selectors import SessionKey, rating_view
from evalhub.studies.models import Assignment
from tests.evalhub.rating.test_crowd_flow import start

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["pairwise", "absolute"])
def test_the_skeleton_page_is_the_rendered_page(make_study, client, kind, monkeypatch):
    study = make_study(prompts=2, kind=kind, session_quota=2)
    start(client, study)
    session = RaterSession.objects.get()
    # The target on the right: a single (absolute) response must still be shown.
    Assignment.objects.filter(pk=session.assignment_id).update(target_side="B")
    view = rating_view(key=SessionKey.crowd(session.token, study.slug))
    monkeypatch.setattr(views, "get_token", lambda request: "csrf<&>")
    here = f"/s/{study.slug}/rate/"
    filled = views._form_page(RequestFactory().get(here), view, here).content.decode()
    context = {**views._form_context(view, here), "csrf_token": "csrf<&>"}
    assert filled == get_template("rating/form.html").render(context)
    assert "csrf&lt;&amp;&gt;" in filled and view.assignment_token in filled
    assert view.target_html and view.target_html in filled and view.prompt_html in filled
