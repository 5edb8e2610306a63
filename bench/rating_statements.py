"""Statements per rating request: one participant goes through the crowd flow in-process
(Django's test client, the same middleware and views as gunicorn runs) on the database of
DATABASE_URL, and every SQL statement sent to PostgreSQL is counted: Django's queries and
the rating loop's prepared statements alike, plus transactions (BEGIN ... COMMIT/ROLLBACK,
each a round trip of its own).

    DATABASE_URL=... .venv/bin/python -m bench.rating_statements --crowd-code CODE
        [--cycles 10] [--profile]

bench/rating_load.py runs it on its study before the timed run. Prints one JSON line:
{"get": statements per GET of the rating page, "post": per POST of an answer,
 "get_transactions": ..., "post_transactions": ..., "entry": statements of a participant's
 way in (the Prolific link, the consent page and consenting), "entry_transactions": ...,
 "cycles": n}; --profile also prints the cProfile of the cycles' GETs and POSTs (cumulative
time, top 25)."""

from __future__ import annotations

import argparse
import cProfile
import html
import io
import json
import os
import pstats
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TOKEN = re.compile(r'name="a" value="([^"]+)"')
CHOICE = re.compile(r'name="choice" value="([^"]+)"')


class StatementCounter:
    """Counts what psycopg sends: each cursor execute, and each transaction's end."""

    def __init__(self) -> None:
        self.statements = 0
        self.transactions = 0

    def install(self) -> None:
        import psycopg

        counter = self
        for cls in (psycopg.Cursor, psycopg.ClientCursor):
            if "execute" not in vars(cls):  # inherited: counted where it is defined
                continue
            original = cls.execute

            def execute(self, *args, _original=original, **kwargs):
                counter.statements += 1
                return _original(self, *args, **kwargs)

            cls.execute = execute
        for name in ("commit", "rollback"):
            original = getattr(psycopg.Connection, name)

            def end(self, *args, _original=original, **kwargs):
                counter.transactions += 1
                return _original(self, *args, **kwargs)

            setattr(psycopg.Connection, name, end)

    def read(self) -> tuple[int, int]:
        return self.statements, self.transactions


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--crowd-code", required=True, help="the study's crowd link code")
    parser.add_argument("--cycles", type=int, default=10)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django

    django.setup()
    from django.test import Client

    counter = StatementCounter()
    counter.install()
    client = Client(HTTP_HOST="127.0.0.1")
    base = f"/s/{args.crowd_code}/"
    response = client.get(f"{base}?PROLIFIC_PID=statements{os.getpid()}")
    assert response.status_code == 303, response.status_code
    client.get(f"{base}consent/")
    response = client.post(f"{base}consent/")
    location = response["Location"]
    # One answer first: each statement is planned on its first run on the connection, with
    # two more (SET / RESET enable_seqscan) around it; counted are the runs after that.
    page = client.get(location).content.decode()
    if TOKEN.search(page) is None:
        raise SystemExit(f"no rating form at {location}:\n{page[:3000]}")
    answer = {"a": TOKEN.search(page).group(1), "choice": html.unescape(CHOICE.findall(page)[0])}
    location = client.post(location, answer)["Location"]
    profile = cProfile.Profile() if args.profile else None
    get = post = get_tx = post_tx = cycles = 0
    while cycles < args.cycles and location.endswith("/rate/"):
        before = counter.read()
        if profile:
            profile.enable()
        page = client.get(location)
        if profile:
            profile.disable()
        middle = counter.read()
        text = page.content.decode()
        choice = html.unescape(CHOICE.findall(text)[0])
        if profile:
            profile.enable()
        response = client.post(location, {"a": TOKEN.search(text).group(1), "choice": choice})
        if profile:
            profile.disable()
        after = counter.read()
        assert response.status_code == 303, response.status_code
        location = response["Location"]
        get += middle[0] - before[0]
        get_tx += middle[1] - before[1]
        post += after[0] - middle[0]
        post_tx += after[1] - middle[1]
        cycles += 1
    entry = entry_statements(counter, base)
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(25)
        print(out.getvalue(), file=sys.stderr)
    n = max(cycles, 1)
    print(json.dumps({"get": get / n, "post": post / n, "get_transactions": get_tx / n,
                      "post_transactions": post_tx / n, "entry": entry[0],
                      "entry_transactions": entry[1], "cycles": cycles}))  # fmt: skip


def entry_statements(counter: StatementCounter, base: str) -> tuple[int, int]:
    """(statements, transactions) of a second participant's link, consent page and consent,
    each request on a connection kept from the one before, as under gunicorn (where
    request_started arms the connection's health check; the test client leaves it out)."""
    from django.db import close_old_connections
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    before = counter.read()
    close_old_connections()
    response = client.get(f"{base}?PROLIFIC_PID=statements{os.getpid()}b")
    assert response.status_code == 303, response.status_code
    close_old_connections()
    assert client.get(f"{base}consent/").status_code == 200
    close_old_connections()
    assert client.post(f"{base}consent/").status_code == 303
    after = counter.read()
    return after[0] - before[0], after[1] - before[1]


if __name__ == "__main__":
    main()
