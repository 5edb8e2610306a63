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


def test_the_schema_validates_as_openapi_3_0_3(tmp_path):
    """`manage.py spectacular --validate` passes: no JSON Schema keyword that OpenAPI 3.0.3
    lacks (the key rule is the vendor extension x-propertyNames)."""
    from django.core.management import call_command

    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    schema = yaml.safe_load(out.read_text())
    assert schema["openapi"] == "3.0.3"
    assert "propertyNames" not in out.read_text().replace("x-propertyNames", "")
