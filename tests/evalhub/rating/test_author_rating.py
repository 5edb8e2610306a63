"""Logged-in raters (authors) rate at /rate/<study>/; raters reach nothing else."""

import re

import pytest
from django.http import HttpRequest
from django.test import Client

from evalhub.demo.services import demo_load
from evalhub.studies.models import Judgment, Rater

pytestmark = pytest.mark.django_db


def logged_in(user, password):
    client = Client()
    assert client.login(request=HttpRequest(), username=user.username, password=password)
    return client


def test_an_author_rates_without_attention_checks(make_study, bob):
    study = make_study(prompts=2, attention_check_rate=0.5)
    client = logged_in(bob, "bob-password-1")
    url = f"/rate/{study.crowd_code}/"
    for _ in range(2):
        page = client.get(url)
        assert page.status_code == 200 and b"Item " in page.content
        token = re.search(r'name="a" value="([^"]+)"', page.content.decode()).group(1)
        assert client.post(url, {"a": token, "choice": "B"}).status_code == 303
    assert b"Nothing left to rate" in client.get(url).content
    judgments = Judgment.objects.all()
    assert [j.judge_group for j in judgments] == ["author", "author"]
    assert not judgments.filter(is_attention_check=True).exists()
    assert Rater.objects.get().user == bob


def test_anonymous_visitors_must_log_in_to_rate_as_authors(make_study):
    study = make_study()
    response = Client().get(f"/rate/{study.crowd_code}/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_raters_cannot_reach_the_admin(make_study, bob):
    client = logged_in(bob, "bob-password-1")
    response = client.get("/admin/")
    assert response.status_code == 302 and "login" in response["Location"]
    crowd = Client()
    study = make_study()
    crowd.get(f"/s/{study.crowd_code}/?PROLIFIC_PID=P9")
    assert crowd.get("/admin/").status_code == 302
    assert crowd.get("/").status_code == 302  # the studies list needs a login


def test_the_demo_study_can_be_rated_right_after_loading():
    code = demo_load().study.crowd_code
    client = Client()
    assert client.get(f"/s/{code}/?PROLIFIC_PID=demo1").status_code == 303
    client.post(f"/s/{code}/consent/")
    page = client.get(f"/s/{code}/rate/")
    assert (
        page.status_code == 200 and b"Answer A" in page.content and b"Item 1 of 10" in page.content
    )
    assert b"demo-target" not in page.content and b"demo-baseline" not in page.content
