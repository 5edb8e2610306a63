"""A team's study list among many teams: 100 teams x 1,000 studies, goal < 300 ms.

    .venv/bin/python bench/team_lists.py [--teams 100] [--studies 1000] [--smoke]

Makes (and drops at the end) a scratch database `evalhub_bench_teams` on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrates it, and bulk-creates
`teams` teams of `studies` studies each (all on one shared prompt set and model, with
ANALYZE as autovacuum would). One member of the last team then asks for the team's lists
through Django's test client in-process (full middleware: the session's team is read from
the database on every request): the workspace's studies page, the dashboards' overview
and the API's first page of studies. Prints median and p95 of each against the goal.

The named peer, measured in the same run, is the same lists for a team that is alone in
a database of its own size (`--teams 1`): `ratio` = the scoped list among all teams / the
list alone, so ~1 means the other teams cost nothing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

DB_NAME = os.environ.get("EVALHUB_BENCH_DB", "evalhub_bench_teams")
GOAL_S = 0.3
PAGES = ("/studies/", "/dashboards/", "/api/v1/studies/")


def build(n_teams: int, n_studies: int, offset: int) -> object:
    """`n_teams` teams of `n_studies` studies; returns the last team."""
    from evalhub.outputs.models import ModelEntry
    from evalhub.prompts.models import PromptSet
    from evalhub.studies.models import Study
    from evalhub.teams.models import Team

    teams = Team.objects.bulk_create(
        Team(slug=f"team-{offset + t}", name=f"Team {offset + t}") for t in range(n_teams)
    )
    prompt_set = PromptSet.objects.create(team=teams[0], slug=f"shared-{offset}", name="shared")
    model = ModelEntry.objects.create(team=teams[0], slug=f"shared-{offset}", name="shared")
    Study.objects.bulk_create(
        (Study(team=team, slug=f"s{offset + t}-{k}", name=f"Study {k} of team {offset + t}",
               prompt_set=prompt_set, target_model=model, status=Study.Status.LAUNCHED)
         for t, team in enumerate(teams) for k in range(n_studies)),
        batch_size=5000,
    )  # fmt: skip
    return teams[-1]


def member_client(team: object, username: str) -> object:
    from django.test import Client

    from evalhub.accounts.services import user_create
    from evalhub.teams.models import Membership

    user = user_create(username=username, password=secrets.token_urlsafe(16), role="researcher")
    Membership.objects.create(user=user, team=team, role="viewer")
    client = Client()
    client.force_login(user)
    return client


def timed(client: object, path: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(path)
        out.append(time.perf_counter() - start)
        assert response.status_code == 200, (path, response.status_code)
    return out


def summary(label: str, seconds: list[float]) -> float:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    median = statistics.median(ms)
    verdict = "ok" if median < GOAL_S * 1000 else "OVER GOAL"
    print(f"{label:<44} median {median:7.1f} ms  p95 {p95:7.1f} ms  goal < "
          f"{GOAL_S * 1000:.0f} ms  {verdict}")  # fmt: skip
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=100)
    parser.add_argument("--studies", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--smoke", action="store_true", help="3 teams x 20 studies (seconds)")
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(teams=3, studies=20, repeat=2)

    os.environ["DATABASE_URL"] = scratch_urls(DB_NAME)[1]
    os.environ["CACHE_KEY_PREFIX"] = f"{DB_NAME}-{os.getpid()}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    scratch_recreate(DB_NAME)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        start = time.perf_counter()
        crowded = build(args.teams, args.studies, offset=0)
        alone = build(1, args.studies, offset=args.teams)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        print(f"built: {args.teams} teams x {args.studies} studies (+1 team alone) in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip
        among = member_client(crowded, "among")
        single = member_client(alone, "alone")
        ratios = []
        for path in PAGES:
            timed(among, path, 1)  # warm the process (templates, schema)
            scoped = summary(
                f"{path} of 1 team among {args.teams}", timed(among, path, args.repeat)
            )
            peer = summary(f"{path} of a team alone (peer)", timed(single, path, args.repeat))
            ratios.append(scoped / peer)
            print(f"ratio: {scoped / peer:.2f} ({path}: among {args.teams} teams / alone)")
        print(f"ratio: {max(ratios):.2f} (the worst list)")
    finally:
        from django.db import connections

        connections.close_all()
        scratch_recreate(DB_NAME, drop_only=True)


if __name__ == "__main__":
    main()
