"""/favicon.ico answers on the WSGI site and on the live ASGI app (evalhub.asgi), so no page
logs a 404 for it."""

from __future__ import annotations

import asyncio

import pytest

pytestmark = pytest.mark.django_db


def test_it_serves_the_icon_from_the_wsgi_site(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response)
    assert "max-age=86400" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_it_serves_the_icon_from_the_live_asgi_app():
    from evalhub.asgi import application

    sent: list[dict] = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if requests:
            return requests.pop()
        await asyncio.Event().wait()  # the client stays connected; Django cancels this wait
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "GET", "path": "/favicon.ico", "raw_path": b"/favicon.ico",
             "query_string": b"", "headers": [(b"host", b"localhost")], "scheme": "http",
             "server": ("localhost", 80), "client": ("127.0.0.1", 5000), "root_path": "",
             "http_version": "1.1", "asgi": {"version": "3.0"}}  # fmt: skip
    asyncio.run(application(scope, receive, send))
    assert sent[0]["status"] == 200
    assert b"<svg" in b"".join(m.get("body", b"") for m in sent[1:])
