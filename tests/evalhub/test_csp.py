"""One Content-Security-Policy on every page (django-csp, settings.CONTENT_SECURITY_POLICY):
no inline script or style, nothing from another origin. A real browser loads each page and
fails on any violation: `securitypolicyviolation` events (caught by an init script, which
the page's CSP does not govern) and the console's CSP errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest
from django.test import Client

from evalhub.jobs.models import Job
from evalhub.jobs.services import job_claim
from tests.browser import assert_accessible
from tests.evalhub.dashboards.conftest import (
    LIMA_GPT4,
    LIMA_HUMAN,
    add_human,
    add_llm,
    build_pairwise_study,
    verdicts_for,
)
from tests.factories import lab_team
from training.services import dataset_import, recipe_presets_ensure, training_run_create
from training.services.runs import RunRecorder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SKIP = ("/accounts/logout/", "/admin/", "/api/", "/static/", "/s/", "/healthz")
WATCH = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation({directive: e.violatedDirective, blocked: e.blockedURI,
                         source: e.sourceFile, line: e.lineNumber, sample: e.sample});
});
"""


def watch(page) -> list[dict]:
    """Violations on this page, as they happen, across navigations."""
    found: list[dict] = []
    page.expose_binding("__cspViolation", lambda source, v: found.append({**v, "page": page.url}))
    page.add_init_script(WATCH)
    page.on(
        "console",
        lambda m: "Content Security Policy" in m.text and found.append({"console": m.text}),
    )
    return found


def settle(page, expression: str, timeout_s: float = 30) -> None:
    """Wait until `expression` is truthy in the page. Polled through the DevTools protocol:
    Playwright's wait_for_function uses eval(), which the policy refuses."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"{page.url}: never true: {expression}"
        page.wait_for_timeout(100)


def visit(page, url: str, ready: str | None = None) -> None:
    response = page.goto(url)
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "default-src 'none'" in policy and "script-src 'self'" in policy, (url, policy)
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "http" not in policy
    if ready:
        settle(page, ready)
    page.wait_for_load_state("networkidle")


def crawl(page, base: str, start: list[str], limit: int = 60) -> list[str]:
    """Visit the researcher pages reachable by links from `start` (same origin, HTML, no
    downloads, not the admin, the API, the crowd links or logout): pages added later are
    checked without being listed here. Returns the paths visited."""
    seen, queue, visited = set(start), list(start), []
    while queue and len(visited) < limit:
        path = queue.pop(0)
        response = page.goto(base + path)
        if response.status != 200 or "text/html" not in response.headers.get("content-type", ""):
            continue
        assert "default-src 'none'" in response.headers.get("content-security-policy", ""), path
        page.wait_for_load_state("networkidle")
        visited.append(path)
        hrefs = page.eval_on_selector_all("a[href]:not([download])", "els => els.map(a => a.href)")
        for href in hrefs:
            url = urlparse(href)
            if f"{url.scheme}://{url.netloc}" != base or url.path in seen:
                continue
            if url.path.startswith(SKIP) or url.path.endswith((".json", ".csv", ".jsonl")):
                continue
            seen.add(url.path)
            queue.append(url.path)
    return visited


def enforcing_page(context):
    """A page that enforces the CSP (unlike researcher_page, which bypasses it for
    wait_for_function) and collects console errors, uncaught exceptions and failed loads."""
    page = context.new_page()
    page.problems = []
    # The browser's own /favicon.ico request (there is none) is not the page's doing.
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.location.get("url", "").endswith("/favicon.ico")
            and page.problems.append(f"{page.url}: {m.text}")
        ),
    )
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on("response", lambda r: r.status >= 400 and page.problems.append(f"{r.status} {r.url}"))
    return page


@pytest.fixture
def anonymous_page(browser) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    yield enforcing_page(context)
    context.close()


@pytest.fixture
def staff_page(browser, live_server, alice) -> Iterator:
    """alice (researcher, and staff for the admin) logged in, the CSP enforced."""
    alice.is_staff = alice.is_superuser = True
    alice.save()
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "url": live_server.url}])  # fmt: skip
    yield enforcing_page(context)
    context.close()


@pytest.fixture
def study(db):
    study, items = build_pairwise_study(slug="csp-study", baselines=list(LIMA_HUMAN), n_prompts=20)
    add_human(items, {b: verdicts_for(*(n // 5 for n in wtl)) for b, wtl in LIMA_HUMAN.items()})
    add_llm(items, {b: verdicts_for(*(n // 5 for n in wtl)) for b, wtl in LIMA_GPT4.items()})
    return study


@pytest.fixture
def training_run(tiny_model_dir, tmp_path, alice, own_queue):
    # Its job goes to the test's own queue: this xdist worker may hold a training worker
    # (started by an engine test), which must not claim (and train) it.
    with own_queue():
        dataset = dataset_import(
            slug="csp", name="CSP", rows=[(1, {"conversations": ["Make coffee?", "Grind beans."]})]
        )
        run = training_run_create(team=lab_team(),
            dataset=dataset, base_model=str(tiny_model_dir), recipe=recipe_presets_ensure()[0],
            overrides={"epochs": 1, "save_epochs": [1]}, slug="csp-run", name="CSP run", output_dir=tmp_path / "run",
            requested_by=alice,
        )  # fmt: skip
    assert job_claim(job_id=run.job_id)
    from training.engine.loop import StepMetrics  # imports torch: not on collection

    recorder = RunRecorder(run=run, job_id=run.job_id)
    for step in (1, 2, 3):
        recorder.step_done(
            StepMetrics(
                step=step,
                total_steps=3,
                epoch=step / 3,
                loss=3.0 - step / 2,
                lr=1e-5,
                tokens=512,
                tokens_per_s=100.0,
                elapsed_s=2.0 * step,
                eta_s=2.0 * (3 - step),
                grad_norm=1.0,
            )
        )
    return run


def test_researcher_pages_and_the_admin_have_no_csp_violation(
    staff_page, live_server, alice, study, training_run
):
    page = staff_page
    violations = watch(page)
    job = Job.objects.create(team=lab_team(), kind="generation", status=Job.Status.RUNNING, progress_total=10,
                             progress_done=4)  # fmt: skip
    base = live_server.url
    pages = [
        ("/dashboards/", "document.querySelector('progress.meter') !== null"),
        (f"/dashboards/studies/{study.slug}/", "document.querySelectorAll('.js-plotly-plot').length >= 7"),
        (f"/jobs/{job.pk}/", "document.getElementById('job-progress').value === 4"),
        (f"/training/runs/{training_run.slug}/", "document.getElementById('chart-loss').data?.[0].x.length === 3"),
        ("/generation/", None),
        ("/studies/", None),
        (f"/studies/{study.slug}/", None),
        ("/studies/new/", None),
        ("/instruments/", None),
        ("/dashboards/judges/", None),
        (f"/dashboards/studies/{study.slug}/raters/", None),
        ("/accounts/tokens/", None),
        (f"/rate/{study.crowd_code}/", None),
        ("/admin/", None),
        ("/admin/axes/accessattempt/", None),
        ("/admin/auth/user/", None),
        (f"/admin/auth/user/{alice.pk}/change/", None),
    ]  # fmt: skip
    for path, ready in pages:
        visit(page, base + path, ready)
        if path == f"/dashboards/studies/{study.slug}/":
            # Hover labels are drawn on demand, with their own styles.
            page.hover("#chart-wtl .point >> nth=0", force=True)
            settle(page, "document.querySelector('#chart-wtl .hoverlayer .hovertext')")
        if not path.startswith("/admin/"):
            assert_accessible(page)
        assert violations == [], (path, *violations)
    # Every other researcher page the links lead to (jobs, training, whatever is added).
    visited = crawl(
        page, base, ["/", "/studies/", "/dashboards/", "/jobs/", "/training/", "/generation/"]
    )
    assert {"/dashboards/", "/jobs/", "/training/"} <= set(visited)
    assert f"/training/runs/{training_run.slug}/" in visited and f"/jobs/{job.pk}/" in visited
    assert violations == [], violations
    assert page.problems == []


def test_the_login_pages_and_the_api_docs_have_no_csp_violation(anonymous_page, live_server):
    page = anonymous_page
    violations = watch(page)
    visit(page, live_server.url + "/accounts/login/")
    assert_accessible(page)
    visit(page, live_server.url + "/admin/login/")
    # Swagger UI draws the operations from the schema (its start-up script is a file).
    visit(page, live_server.url + "/api/docs/", "document.querySelectorAll('.opblock').length > 10")
    assert violations == [], violations
    assert page.problems == []


def test_an_inline_script_would_be_reported(anonymous_page, live_server):
    """The watch itself works: an inline script on one of our pages is refused and reported."""
    page = anonymous_page
    violations = watch(page)
    visit(page, live_server.url + "/accounts/login/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.appendChild(s); }"
    )
    deadline = time.monotonic() + 5
    while not violations and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert page.evaluate("window.ran") is None
    assert any(v.get("directive", "").startswith("script-src") for v in violations), violations


def test_rating_researcher_and_docs_pages_send_the_one_policy(alice, study):
    client = Client()
    rating = client.get(f"/s/{study.crowd_code}/")  # no Prolific id, no session: a message page
    assert rating.status_code == 403
    docs = client.get("/api/docs/")
    client.force_login(alice)
    dashboards = client.get("/dashboards/")
    policies = {r["Content-Security-Policy"] for r in (rating, docs, dashboards)}
    assert len(policies) == 1
    assert "frame-ancestors 'none'" in policies.pop()
