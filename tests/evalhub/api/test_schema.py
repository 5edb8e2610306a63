"""The OpenAPI schema and the docs page, whose assets we serve ourselves."""

import re

import pytest
import yaml

pytestmark = pytest.mark.django_db


def test_the_schema_documents_every_endpoint_with_token_auth(anon_api):
    response = anon_api.get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "EvalHub API"
    assert {
        "/api/v1/prompt-sets/", "/api/v1/prompt-sets/{slug}/outputs/", "/api/v1/models/",
        "/api/v1/studies/{slug}/launch/", "/api/v1/studies/{slug}/results/",
        "/api/v1/studies/{slug}/judgments/", "/api/v1/studies/{slug}/judgments/import/",
        "/api/v1/judge-runs/", "/api/v1/generation-runs/", "/api/v1/jobs/{job_id}/",
    } <= set(schema["paths"])  # fmt: skip
    assert schema["components"]["securitySchemes"]["tokenAuth"]["name"] == "Authorization"
    bulk = schema["paths"]["/api/v1/prompt-sets/{slug}/outputs/"]["post"]
    assert set(bulk["requestBody"]["content"]) == {"application/json", "application/x-ndjson"}
    assert "413" in bulk["responses"] and "400" in bulk["responses"]


def test_the_docs_page_loads_its_assets_from_our_own_static_files(anon_api, client):
    page = anon_api.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', html)
    assert assets and all(a.startswith("/static/") for a in assets), assets
    assert any(a.startswith("/static/drf_spectacular_sidecar/") for a in assets), assets
    assert "cdn" not in html.lower()
    for asset in assets:
        response = client.get(asset)
        assert response.status_code == 200, asset
