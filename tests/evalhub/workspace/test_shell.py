"""The researcher shell: every researcher page wears it, and raters get 403 on all of them."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

pytestmark = pytest.mark.django_db

RESEARCHER_NAMESPACES = ("workspace", "dashboards", "jobs", "training", "generation")
NAV = ["Studies", "Prompt sets", "Models", "Judges", "Instruments", "Dashboards", "Jobs",
       "History", "Training", "API docs", "Admin"]  # fmt: skip


def _researcher_paths() -> list[str]:
    """Every URL of the researcher apps, with placeholder arguments filled in."""
    paths = []
    for entry in get_resolver().url_patterns:
        if not isinstance(entry, URLResolver) or entry.namespace not in RESEARCHER_NAMESPACES:
            continue
        prefix = str(entry.pattern)
        for pattern in entry.url_patterns:
            assert isinstance(pattern, URLPattern)
            route = str(pattern.pattern)
            route = re.sub(r"<int:\w+>", "1", route)
            route = re.sub(r"<(?:slug|str):fmt>", "csv", route)
            route = re.sub(r"<(?:slug|str):\w+>", "nope", route)
            paths.append("/" + prefix + route)
    return paths


def test_the_researcher_apps_have_pages():
    assert len(_researcher_paths()) > 20


def test_a_rater_gets_403_on_every_researcher_page(client, bob):
    client.force_login(bob)
    for path in _researcher_paths():
        response = client.get(path)
        if response.status_code == 405:
            response = client.post(path)
        assert response.status_code == 403, path
        assert b"nav-links" not in response.content, path


def test_researcher_pages_share_the_shell(client, alice):
    client.force_login(alice)
    pages = [
        reverse("workspace:studies"),
        reverse("workspace:prompt_sets"),
        reverse("workspace:models"),
        reverse("workspace:judges"),
        reverse("workspace:history"),
        reverse("dashboards:overview"),
        reverse("jobs:list"),
        reverse("training:index"),
        reverse("training:run_new"),
        reverse("generation:start"),
    ]
    for url in pages:
        page = client.get(url).content.decode()
        nav = re.search(r'<ul class="nav-links">(.*?)</ul>', page, re.S)
        assert nav, url
        assert re.findall(r">([^<>]+)</a>", nav.group(1)) == NAV, url
        assert 'aria-label="Breadcrumbs"' in page, url
        # One stylesheet of ours; plotly's own rules come as files (no inline styles: CSP).
        sheets = re.findall(r'rel="stylesheet" href="([^"]+)"', page)
        assert [s for s in sheets if "/vendor/" not in s] == ["/static/evalhub/evalhub.css"], url
        assert "<script>" not in page and " style=" not in page, url
