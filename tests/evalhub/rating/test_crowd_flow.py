"""The crowd flow over HTTP (Django's test client): entry, consent, loop, completion."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.utils import timezone

from evalhub.rating.models import ItemPage, RaterSession
from evalhub.rating.services import participant_hash
from evalhub.studies.models import Assignment, Judgment, Rater, Study

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="a" value="([^"]+)"')


def enter(client, study, pid=None):
    # One participant per study by default: entries per participant are rate-limited
    # (in Redis, across the tests of a session).
    pid = pid or f"PID{study.pk}"
    url = f"/s/{study.crowd_code}/?PROLIFIC_PID={pid}&STUDY_ID=st1&SESSION_ID=se1"
    response = client.get(url)
    assert response.status_code == 303
    return response


def start(client, study, pid=None):
    enter(client, study, pid)
    response = client.post(f"/s/{study.crowd_code}/consent/")
    assert response.status_code == 303 and response["Location"] == f"/s/{study.crowd_code}/rate/"
    return client.get(f"/s/{study.crowd_code}/rate/")


def answer(client, study, page, choice="A", **extra):
    token = TOKEN.search(page.content.decode()).group(1)
    return client.post(f"/s/{study.crowd_code}/rate/", {"a": token, "choice": choice, **extra})


def right_answer(page):
    """The gold answer for a gold page: the side that is not a word salad."""
    html = page.content.decode()
    a, _ = re.findall(
        r'<article class="answer"><h2>Answer [AB]</h2><div class="md">(.*?)</div>', html, re.S
    )
    return "A" if "." in a else "B"


def test_a_participant_goes_from_the_link_to_the_completion_code(make_study):
    study = make_study(prompts=6, session_quota=3)
    client = Client()
    entry = enter(client, study)
    assert entry["Location"] == f"/s/{study.crowd_code}/consent/"
    consent = client.get(entry["Location"])
    assert b"super-intelligent AI assistant" in consent.content
    page = start(client, study)
    for n in range(1, 4):
        assert f"Item {n} of 3".encode() in page.content
        response = answer(client, study, page, choice=["A", "B", "tie"][n - 1])
        assert response.status_code == 303
        page = client.get(response["Location"])
    assert response["Location"] == f"/s/{study.crowd_code}/done/"
    assert page.status_code == 200
    url = (
        re.search(r'content="1;url=([^"]+)"', page.content.decode()).group(1).replace("&amp;", "&")
    )
    assert urlparse(url).netloc == "app.prolific.com"
    assert parse_qs(urlparse(url).query)["cc"] == ["DONE123"]
    session = RaterSession.objects.get()
    assert (session.status, session.done, session.prolific_session_id) == ("completed", 3, "se1")
    assert Judgment.objects.filter(judge_group="crowd").count() == 3


def test_the_participant_id_is_stored_only_as_a_keyed_hash(make_study):
    study = make_study()
    start(Client(), study, pid="RAWPID777")
    rater = Rater.objects.get()
    assert rater.external_id_hash == participant_hash("RAWPID777") != "RAWPID777"
    assert "RAWPID777" not in str(list(RaterSession.objects.values()))


def test_a_refresh_shows_the_same_assignment(make_study):
    study = make_study()
    client = Client()
    first = start(client, study)
    again = client.get(f"/s/{study.crowd_code}/rate/")
    assert TOKEN.search(first.content.decode()).group(1) == TOKEN.search(
        again.content.decode()
    ).group(1)
    assert (
        first.content.split(b"csrfmiddlewaretoken")[1][80:]
        == again.content.split(b"csrfmiddlewaretoken")[1][80:]
    )  # the same item, apart from the masked CSRF token


def test_a_second_entry_resumes_the_one_session(make_study):
    study = make_study(session_quota=4)
    client = Client()
    page = start(client, study)
    answer(client, study, page)
    other_browser = Client()
    enter(other_browser, study)  # same participant, new Prolific session
    page = other_browser.get(f"/s/{study.crowd_code}/rate/")
    assert b"Item 2 of 4" in page.content
    assert RaterSession.objects.count() == 1


def test_a_double_submit_counts_once(make_study):
    study = make_study(session_quota=5)
    client = Client()
    page = start(client, study)
    answer(client, study, page)
    answer(client, study, page)  # the same form posted again
    assert Judgment.objects.count() == 1
    assert RaterSession.objects.get().done == 1


def test_no_model_name_or_id_reaches_the_rater(make_study):
    study = make_study(prompts=2, baselines=2)
    client = Client()
    pages = [client.get(enter(client, study)["Location"]), start(client, study)]
    html = b"".join(p.content for p in pages).decode()
    secrets = [study.target_model.slug, study.target_model.name]
    secrets += [m.slug for m in study.baselines.all()] + ["secret-baseline", "model-"]
    for secret in secrets:
        assert secret not in html
    item = RaterSession.objects.get().assignment.item
    assert f'value="{item.pk}"' not in html and f"/{item.target_output_id}/" not in html


def test_forms_need_the_csrf_token(make_study):
    study = make_study()
    client = Client(enforce_csrf_checks=True)
    enter(client, study)
    assert client.post(f"/s/{study.crowd_code}/consent/").status_code == 403


def test_a_bad_link_says_what_is_missing(make_study):
    study = make_study()
    response = Client().get(f"/s/{study.crowd_code}/?PROLIFIC_PID=<bad>")
    assert response.status_code == 400 and b"PROLIFIC_PID" in response.content
    assert Client().get(f"/s/{study.crowd_code}/rate/").status_code == 403


def test_a_draft_study_is_not_found(make_study):
    study = make_study(launch=False)
    assert Client().get(f"/s/{study.crowd_code}/?PROLIFIC_PID=abc").status_code == 404


def test_a_closed_study_says_so(make_study):
    from evalhub.studies.services import study_close

    study = make_study()
    client = Client()
    start(client, study)
    study_close(study=study)
    assert b"closed" in client.get(f"/s/{study.crowd_code}/rate/").content


def test_two_failed_attention_checks_screen_out_and_one_does_not(make_study):
    study = make_study(prompts=6, session_quota=6, attention_check_rate=0.5)
    client = Client()
    page = start(client, study)
    session = RaterSession.objects.get()
    assert len(session.gold_positions) == 3
    failures = 0
    while True:
        session.refresh_from_db()
        gold = session.assignment.item.is_gold
        choice = "tie" if gold else "A"  # a tie on a gold item is wrong
        response = answer(client, study, page, choice=choice)
        failures += gold
        if failures == 1:
            session.refresh_from_db()
            assert session.status == "active" and session.attention_failures == 1
        if response["Location"].endswith("/done/"):
            break
        page = client.get(response["Location"])
    assert failures == 2
    session.refresh_from_db()
    assert session.status == RaterSession.Status.SCREENED_OUT
    done = client.get(f"/s/{study.crowd_code}/done/").content.decode()
    assert "cc=SCREEN456" in done
    checks = Judgment.objects.filter(is_attention_check=True)
    assert (
        checks.count() == 2
        and not Judgment.objects.filter(is_attention_check=False, item__is_gold=True).exists()
    )


def test_passing_attention_checks_complete_normally(make_study):
    study = make_study(prompts=6, session_quota=4, attention_check_rate=0.5)
    client = Client()
    page = start(client, study)
    while True:
        session = RaterSession.objects.get()
        choice = right_answer(page) if session.assignment.item.is_gold else "tie"
        response = answer(client, study, page, choice=choice)
        if response["Location"].endswith("/done/"):
            break
        page = client.get(response["Location"])
    session.refresh_from_db()
    assert session.status == "completed" and session.attention_failures == 0


def test_a_participant_is_rate_limited(make_study, settings):
    settings.RATING_RATE_LIMIT_PER_MINUTE = 2
    study = make_study(prompts=6, session_quota=6)
    client = Client()
    page = start(client, study)
    statuses = []
    for _ in range(4):
        response = answer(client, study, page)
        statuses.append(response.status_code)
        if response.status_code == 303:
            page = client.get(response["Location"])
    assert statuses[:2] == [303, 303] and 429 in statuses[2:]


def test_pages_allow_no_remote_content(make_study):
    study = make_study()
    page = start(Client(), study)
    assert "default-src 'none'" in page["Content-Security-Policy"]
    assert page["Cache-Control"] == "no-store"


def test_the_quota_is_per_session(make_study):
    study = make_study(prompts=10, session_quota=2, raters_per_item=1)
    for pid in ("P1", "P2"):
        client = Client()
        page = start(client, study, pid=pid)
        for _ in range(2):
            response = answer(client, study, page)
            if not response["Location"].endswith("/done/"):
                page = client.get(response["Location"])
        assert response["Location"].endswith("/done/")
    assert Judgment.objects.count() == 4
    assert set(RaterSession.objects.values_list("done", flat=True)) == {2}
    assert Study.objects.get(pk=study.pk).items.filter(judgment_count=1).count() == 4


def test_each_page_has_its_own_csrf_token_that_django_accepts(make_study):
    study = make_study(prompts=4, session_quota=4)
    client = Client(enforce_csrf_checks=True)
    enter(client, study)
    consent = client.get(f"/s/{study.crowd_code}/consent/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', consent).group(1)
    response = client.post(f"/s/{study.crowd_code}/consent/", {"csrfmiddlewaretoken": csrf})
    assert response.status_code == 303
    tokens = []
    for _ in range(2):
        page = client.get(f"/s/{study.crowd_code}/rate/").content.decode()
        tokens.append(re.search(r'name="csrfmiddlewaretoken" value="(\w+)"', page).group(1))
    secret = client.cookies["csrftoken"].value
    assert len(set(tokens)) == 2 and all(len(t) == 64 for t in tokens)
    assert all(_unmask_cipher_token(t) == secret for t in [csrf, *tokens])
    token = TOKEN.search(page).group(1)
    response = client.post(
        f"/s/{study.crowd_code}/rate/",
        {"a": token, "choice": "A", "csrfmiddlewaretoken": tokens[-1]},
    )
    assert response.status_code == 303 and Judgment.objects.count() == 1


def test_a_page_view_after_the_reservation_expired_shows_a_fresh_item(make_study):
    study = make_study(prompts=3, session_quota=3, raters_per_item=1)
    client = Client()
    first = start(client, study)
    session = RaterSession.objects.get()
    expired = session.assignment
    Assignment.objects.filter(pk=expired.pk).update(expires_at=timezone.now() - timedelta(1))
    page = client.get(f"/s/{study.crowd_code}/rate/")
    assert page.status_code == 200 and b"Item 1 of 3" in page.content
    assert TOKEN.search(page.content.decode()).group(1) != TOKEN.search(
        first.content.decode()
    ).group(1)
    session.refresh_from_db()
    assert session.assignment_id != expired.pk and session.status == "active"
    expired.refresh_from_db()
    assert expired.status == Assignment.Status.EXPIRED
    assert ItemPage.objects.get(pk=expired.item_id).taken == 0  # back in the pool
    # The old page's answer is stale: nothing recorded, the fresh item stays.
    assert answer(client, study, first).status_code == 303
    assert not Judgment.objects.exists()
    assert answer(client, study, page).status_code == 303
    assert Judgment.objects.get().assignment_id == session.assignment_id
