"""ASGI entry point: the live studies' streaming answers (evalhub.live) need an async
server. Production runs it under gunicorn with uvicorn workers (Procfile `web-live`); the
rest of the site keeps its WSGI server (evalhub.wsgi), whose rating hot path is tuned."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
application = get_asgi_application()
