"""The WSGI app for bench/rating_load.py, with the URLconf imported up front: gunicorn
--preload loads it once in the master, so no worker pays the import on a timed request."""

from django.urls import get_resolver

from evalhub.wsgi import application

get_resolver().url_patterns  # noqa: B018 - imports every view module now

__all__ = ["application"]
