"""A bench's scratch database on DATABASE_URL's server: made fresh, dropped afterwards.

Benches that build their own data never touch the database they were pointed at; each names
its own scratch database, so several benches (or checkouts) can share one server."""

from __future__ import annotations

import os
from urllib.parse import urlparse, urlunparse


def scratch_urls(name: str) -> tuple[str, str]:
    """(maintenance URL, scratch database URL) on the server of DATABASE_URL."""
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    return urlunparse(base._replace(path="/postgres")), urlunparse(base._replace(path=f"/{name}"))


def scratch_recreate(name: str, *, drop_only: bool = False) -> None:
    """Drop the scratch database `name` (closing its connections) and, unless drop_only,
    create it empty."""
    import psycopg

    with psycopg.connect(scratch_urls(name)[0], autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if not drop_only:
            conn.execute(f"CREATE DATABASE {name}")
