"""Shared browser fixtures: Playwright driving Debian's Chromium, never a downloaded browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.test import Client

# Playwright's sync API runs an event loop in this thread; the ORM calls around it are sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def chromium_installed() -> str:
    """Debian's Chromium, installed from apt if it is missing; never a downloaded browser."""
    if not Path(CHROMIUM).exists() and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update", "-qq"], check=False)
        subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], check=False,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})  # fmt: skip
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is needed: apt-get install chromium")
    return CHROMIUM


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One Chromium per module; each test gets a fresh context of its own. Not per session:
    Playwright's sync API keeps an event loop running while it is open, and the later tests
    that call asyncio.run() (the judges' rate limiter) must not find one."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_installed(), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def researcher_page(browser, live_server, alice) -> Iterator:
    """A page logged in as alice that can reach only the live server; console errors and
    uncaught exceptions are collected in page.problems.

    Playwright's wait_for_function evaluates its predicate with eval() in the page, which
    our CSP (no 'unsafe-eval') refuses, so this page bypasses the CSP; tests/evalhub/
    test_csp.py checks the policy on every page, in a context that enforces it."""
    client = Client()
    client.force_login(alice)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    host = urlparse(live_server.url)
    context.add_cookies([{"name": "sessionid", "value": client.cookies["sessionid"].value,
                          "domain": host.hostname, "path": "/"}])  # fmt: skip
    context.route(
        "**/*",
        lambda r: r.continue_() if urlparse(r.request.url).netloc == host.netloc else r.abort(),
    )
    page = context.new_page()
    page.problems = []
    page.on("console", lambda m: m.type == "error" and page.problems.append(m.text))
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    yield page
    context.close()


def tasks_run(page) -> None:
    """Return once the page has run what was queued before this call: a frame is drawn and
    a task after it has run (e.g. the handlers of a click), instead of sleeping a while."""
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done, 0)))")


def axe_violations(page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict]:
    """Run axe-core (npm, installed by `make browser`) on the page as it is now; return the
    violations of the given impacts, each with its rule id, help text and failing targets."""
    if not AXE_JS.exists():
        pytest.fail("axe-core is needed: npm ci (make browser does it)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated through the DevTools protocol, not a <script> tag: a page's CSP
        # (no inline script) must not stop the check.
        page.evaluate(AXE_JS.read_text() + "\n;undefined")
    result = page.evaluate("async () => await window.axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "targets": [n["target"] for n in v["nodes"]]}
        for v in result["violations"] if v["impact"] in impacts
    ]  # fmt: skip


def assert_accessible(page) -> None:
    """No serious or critical axe-core violation on the page (the researcher-page bar)."""
    violations = axe_violations(page)
    assert not violations, f"axe-core on {page.url}: {violations}"
