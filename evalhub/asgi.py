"""ASGI entry point. Live studies stream their answers (evalhub.live), which needs an async
server: production runs this under gunicorn with uvicorn workers (Procfile `web-live`); the
rest of the site keeps its WSGI server (evalhub.wsgi), whose rating hot path is tuned.

The live answer endpoint is a bare ASGI app in front of Django (see
evalhub.live.stream_app for why); every other path goes to Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
django_application = get_asgi_application()

from evalhub.live.stream_app import is_send, live_send_app  # noqa: E402 - needs apps loaded


async def application(scope, receive, send) -> None:
    if is_send(scope):
        await live_send_app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
