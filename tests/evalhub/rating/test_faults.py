"""The crowd flow under real faults: a participant rates by keyboard in Chromium against
gunicorn (DEBUG off) while, between two answers, the private Redis stops or restarts, every
PostgreSQL connection of the server is terminated, or the gunicorn workers are SIGKILLed
during an answer. Every case: no 5xx, every item answered, each answer stored once, and
the dashboards right once Redis is back.

Serial: these kill servers and connections (their own), so they run one at a time, beside
the other xdist workers' tests (tests/isolation.py)."""

from __future__ import annotations

import json
import os
import re
import signal
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.db.models import Count
from django.test import Client

from evalhub.outputs.services import output_fields
from evalhub.rating.models import RaterSession
from evalhub.studies.models import Item, Judgment, Study
from evalhub.studies.services import study_launch
from tests.factories import ModelEntryFactory, OutputFactory, PromptFactory, StudyFactory
from tests.faults import (
    RowLock,
    postgres_backends_alive,
    postgres_blocked_backends,
    postgres_drop_connections,
    postgres_terminate,
    wait_for_workers,
)

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.serial, pytest.mark.django_db(transaction=True)]

PROLIFIC = "https://app.prolific.com/"
QUOTA = 3


@pytest.fixture
def page(browser, web) -> Iterator:
    """A participant's page that can reach only our gunicorn; Prolific is answered locally.
    Every response's status is kept in page.statuses, the requests still waiting for their
    answer in page.in_flight."""
    # wait_for_function evaluates strings, which the site's CSP refuses (test_csp checks it).
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    local = urlparse(web.url).netloc

    def route(r):
        if urlparse(r.request.url).netloc == local:
            return r.continue_()
        if r.request.url.startswith(PROLIFIC):
            return r.fulfill(status=200, content_type="text/html", body="<h1>Prolific</h1>")
        return r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.statuses = []
    page.on("response", lambda r: page.statuses.append((r.status, r.request.method, r.url)))
    page.in_flight = set()
    page.on("request", lambda r: page.in_flight.add(r))
    page.on("requestfinished", lambda r: page.in_flight.discard(r))
    page.on("requestfailed", lambda r: page.in_flight.discard(r))
    yield page
    context.close()


@pytest.fixture
def study() -> Study:
    study = StudyFactory(session_quota=QUOTA, raters_per_item=2, attention_check_rate=0.0)
    baseline = ModelEntryFactory(slug=f"secret-baseline-{study.pk}")
    study.baselines.set([baseline])
    for n in range(4):
        prompt = PromptFactory(prompt_set=study.prompt_set, text=f"Question {n}: why?")
        OutputFactory(prompt=prompt, model=study.target_model, **output_fields(f"Because {n}."))
        OutputFactory(prompt=prompt, model=baseline, **output_fields(f"No idea ({n})."))
    return study_launch(study=study)


def enter(page, web, study: Study, participant: str) -> None:
    page.goto(f"{web.url}/s/{study.crowd_code}/?PROLIFIC_PID={participant}&STUDY_ID=s&SESSION_ID=x")
    page.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    with page.expect_navigation(wait_until="load", timeout=60_000):
        page.keyboard.press("Enter")  # "I agree - start" has the focus


def answer(page, n: int, key: str = "1", *, submit: bool = True) -> None:
    """Answer item `n` by keyboard: the choice's key, then Enter (unless not `submit`)."""
    page.wait_for_selector(f"text=Item {n} of {QUOTA}")
    page.wait_for_load_state("load")  # the keyboard script is attached
    page.keyboard.press(key)
    assert page.locator("input[name=choice]:checked").count() == 1
    if submit:
        with page.expect_navigation(wait_until="load", timeout=60_000):
            page.keyboard.press("Enter")


def finish(page, first: int = 1) -> None:
    for n in range(first, QUOTA + 1):
        answer(page, n, "123"[n % 3])
    page.wait_for_url(f"{PROLIFIC}**", timeout=30_000)


def assert_each_answer_stored_once(page, study: Study, participants: int) -> None:
    assert [s for s in page.statuses if s[0] >= 500] == []
    judgments = Judgment.objects.filter(item__study=study)
    assert judgments.count() == participants * QUOTA  # every item answered
    assert not judgments.values("item", "rater").annotate(n=Count("id")).filter(n__gt=1)
    assert judgments.values("assignment").distinct().count() == judgments.count()
    for item in Item.objects.filter(study=study):
        assert item.judgment_count == judgments.filter(item=item).count()
    assert RaterSession.objects.filter(study=study, status="completed").count() == participants


def results(web, alice, study: Study) -> dict:
    """The study's results as the server's API gives them to a researcher."""
    client = Client()
    client.force_login(alice)
    request = urllib.request.Request(  # noqa: S310 - our own server on loopback
        f"{web.url}/api/v1/studies/{study.slug}/results/",
        headers={"Cookie": f"sessionid={client.cookies['sessionid'].value}"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        assert response.status == 200
        return json.load(response)


def health(web) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(f"{web.url}/healthz", timeout=30) as response:  # noqa: S310
            return response.status, json.load(response)
    except urllib.error.HTTPError as exc:
        return exc.code, json.load(exc)


def test_redis_stopped_raters_go_on_and_results_are_fresh_once_it_is_back(
    page, web, private_redis, study, alice
):
    enter(page, web, study, "redisdown1")
    answer(page, 1)
    assert results(web, alice, study)["n_judgments"] == 1  # now cached in Redis
    private_redis.stop(save=True)  # its cached results come back with it
    try:
        finish(page, first=2)
        status, body = health(web)
        assert status == 200 and body["status"] == "degraded"
        assert set(body["degraded"]) == {"broker", "cache"} and body["database"]["ok"]
        assert results(web, alice, study)["n_judgments"] == QUOTA  # uncached, not broken
        page.context.clear_cookies()
        enter(page, web, study, "redisdown2")  # a new participant, with no rate limit
        finish(page)
    finally:
        private_redis.start()
    assert health(web)[1]["status"] == "ok"
    assert_each_answer_stored_once(page, study, participants=2)
    # What Redis cached before it stopped must not come back: the writes it missed moved
    # the study's version in PostgreSQL.
    assert results(web, alice, study)["n_judgments"] == 2 * QUOTA


def test_redis_restarted_mid_session(page, web, private_redis, study, alice):
    enter(page, web, study, "redisrestart1")
    answer(page, 1)
    assert results(web, alice, study)["n_judgments"] == 1
    private_redis.restart()  # every pooled connection is now dead
    finish(page, first=2)
    private_redis.restart()
    page.context.clear_cookies()
    enter(page, web, study, "redisrestart2")
    finish(page)
    assert_each_answer_stored_once(page, study, participants=2)
    assert results(web, alice, study)["n_judgments"] == 2 * QUOTA


def test_postgres_connections_dropped_between_answers(page, web, study, alice):
    enter(page, web, study, "pgdrop1")
    for n in range(1, QUOTA + 1):
        # Every page of the server's workers is served at least once on the old connection
        # (both workers hold one), so the next request finds it dead.
        assert postgres_drop_connections() >= 1
        answer(page, n, "123"[n % 3])
    page.wait_for_url(f"{PROLIFIC}**", timeout=30_000)
    page.context.clear_cookies()
    postgres_drop_connections()
    page.goto(f"{web.url}/s/{study.crowd_code}/?PROLIFIC_PID=pgdrop2&STUDY_ID=s&SESSION_ID=x")
    page.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    postgres_drop_connections()  # the consent POST comes next
    page.keyboard.press("Enter")
    finish(page)
    assert_each_answer_stored_once(page, study, participants=2)
    assert results(web, alice, study)["n_judgments"] == 2 * QUOTA


def pumping(page, predicate, timeout: float = 30) -> list:
    """Wait for `predicate()` while Playwright runs its event loop: the page's requests pass
    through our route handler, which runs only inside Playwright calls (so the poll lets
    Playwright run rather than sleeping)."""
    for _ in range(int(timeout / 0.2)):
        found = predicate()
        if found:
            return found
        page.wait_for_timeout(200)
    raise AssertionError(f"condition not met within {timeout} s")


def _kill_workers_during_answer(page, web, study: Study, n: int, *, committed: bool) -> int:
    """Answer item `n` while its session row is locked, SIGKILL the gunicorn workers while
    the answer waits in PostgreSQL; let it commit (`committed`) or end its backend first;
    then the participant reloads. Returns the item number the page then shows."""
    session = RaterSession.objects.get(study=study)
    lock = RowLock("rating_ratersession", session.pk)
    try:
        answer(page, n, submit=False)
        page.keyboard.press("Enter")
        blocked = pumping(page, postgres_blocked_backends)
        for pid in web.worker_pids():
            os.kill(pid, signal.SIGKILL)
        if not committed:
            for pid in blocked:
                postgres_terminate(pid)
    finally:
        lock.release()
    # The killed workers' backends end once their answer committed (or rolled back).
    pumping(page, lambda: not postgres_backends_alive(blocked))
    wait_for_workers(web)
    # Chromium may send the POST again by itself, to a new worker; wait for its answer (or
    # its failure) so that the counts below are final, whichever happened.
    pumping(page, lambda: not page.in_flight, timeout=90)
    stored = Judgment.objects.filter(item__study=study)
    if committed:
        assert stored.count() == n  # committed once, and a resent POST stored nothing
    else:
        assert stored.count() in (n - 1, n)  # n only if Chromium's resent POST stored it
    # The participant got an error page instead of the next item (or the resent POST's
    # answer) and reloads the study's page: it shows the item still to be answered, and
    # every answer so far is stored once.
    page.goto(f"{web.url}/s/{study.crowd_code}/rate/")
    shown = int(re.search(r"Item (\d+) of", page.inner_text("body")).group(1))
    assert stored.count() == shown - 1
    assert stored.values("assignment").distinct().count() == shown - 1
    return shown


def test_a_worker_killed_during_an_answer_stores_it_exactly_once(page, web, study):
    enter(page, web, study, "sigkill1")
    # Lost after its commit: the retry must not store it again.
    assert _kill_workers_during_answer(page, web, study, 1, committed=True) == 2
    # Lost before its commit: stored once, by whichever retry came first.
    shown = _kill_workers_during_answer(page, web, study, 2, committed=False)
    assert shown in (2, 3)
    finish(page, first=shown)
    assert_each_answer_stored_once(page, study, participants=1)
