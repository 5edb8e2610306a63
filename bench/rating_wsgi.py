"""The WSGI app for bench/rating_load.py, with the URLconf imported and its reverse lookup
built up front: gunicorn --preload loads this once in the master, so no worker pays either
on a timed request."""

from django.urls import get_resolver, reverse

from evalhub.wsgi import application

get_resolver().url_patterns  # noqa: B018 - imports every view module now
reverse("rating:rate", args=["warm-up"])  # builds the resolver's reverse tables

__all__ = ["application"]
