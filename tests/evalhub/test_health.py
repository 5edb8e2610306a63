import pytest

pytestmark = pytest.mark.django_db


def test_it_reports_200_when_database_broker_and_cache_answer(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["degraded"] == []
    assert body["database"]["ok"] and body["broker"]["ok"] and body["cache"]["ok"]


def test_it_stays_200_and_says_degraded_when_the_broker_is_down(client, settings):
    # A load balancer must not take the web tier out because Redis is down.
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded" and body["degraded"] == ["broker"]
    assert body["broker"]["ok"] is False and "ConnectionError" in body["broker"]["detail"]
    assert body["database"]["ok"] is True
