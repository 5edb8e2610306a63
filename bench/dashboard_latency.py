"""Latency of the study dashboard with 100,000 judgments, warm (cached) and cold.

    .venv/bin/python bench/dashboard_latency.py [--prompts 2000] [--baselines 4]

Makes (and drops at the end) a scratch database `evalhub_bench_dashboards` on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrates it, and bulk-creates one
pairwise study: prompts x baselines items; per item 6 crowd judgments, an author judgment on
every other item, and three LLM judges in both orders = 100,000 judgments at the defaults.
The cache is the configured Redis (REDIS_URL); "cold" bumps the study's stats version (what
a judgment write does), so nothing else in Redis is touched.

Requests go through Django's test client in-process (full middleware, auth, template and
JSON rendering; no network). The shared fits the page reads (one-coin, difficulty, LC) are
computed first, as their worker jobs would (fits_land). Prints median and p95 of the study
page and the JSON endpoint, warm and cold, against the goals: warm < 300 ms, cold < 2 s.
The named peer, measured in the same run, is the raw read of the judgments the cold path
needs (values_list of every row, no stats): `ratio` = cold JSON / that read. The tables
are ANALYZEd after the bulk load, as autovacuum would. --profile adds a cProfile of one
cold compute (own time, top 12).

The workspace's study page (/studies/<slug>/, with the live monitor) and the monitor's poll
(/studies/<slug>/monitor.json) are timed too, with 50 raters holding live reservations and
the judgments spread over the last day (so a few hundred fall in the monitor's 5-minute
window). Goals: page warm < 300 ms; poll < 20 ms of server time. The poll's numbers are
cached for 2 s per study, so it is timed both as a request (mostly cache hits, as a page
polling every 3 s with a few tabs open would see) and as its uncached queries. Its peer is the
dashboard's own warm JSON poll: `ratio: monitor poll / dashboard poll`.

The workspace's data lists (prompts of a 10,000-prompt set, a model's outputs, the study's
items and judgments, with filters, search and last pages) are timed last, goal < 300 ms
each (bench/list_cases.py; --list-prompts sets the prompt count).
The AlpacaEval-scale case (--alpaca-studies 22, --alpaca-prompts 805): that many pairwise
studies on one prompt set against one baseline, one weighted LLM judgment (with a
preference) per item. The shared instruction-difficulty fit is computed first, as its worker
job would (timed), then each study's LC fit (its job too), then every study's JSON and page
are timed cold (once each) and warm.
Goals: cold < 2 s once the fit exists, warm < 300 ms; each answer must show LC with the
length_controlled_v1 formula from the current fit. `ratio: in-request fit before / cold
JSON now` compares with what the request used to spend fitting.
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

from bench.bench_team import bench_member, bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

# Its own name per checkout when several run on one server (EVALHUB_BENCH_DB).
DB_NAME = os.environ.get("EVALHUB_BENCH_DB", "evalhub_bench_dashboards")
LLM_JUDGES = ("gpt-4", "claude", "tiny")
CROWD_PER_ITEM = 6


def build(n_prompts: int, n_baselines: int) -> object:
    """The study, bulk-created; returns it."""
    import numpy as np

    from evalhub.dashboards.cache import study_stats_invalidate
    from evalhub.outputs.models import ModelEntry, Output
    from evalhub.prompts.models import Prompt, PromptSet
    from evalhub.studies.models import Item, Judge, Judgment, Rater, Study

    rng = np.random.default_rng(0)
    pset = PromptSet.objects.create(team=bench_team(), slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        [Prompt(prompt_set=pset, external_id=f"q{i}", text=f"Question {i}?",
                category=("advice", "writing", "coding", "chat")[i % 4], position=i)
         for i in range(n_prompts)], batch_size=5000)  # fmt: skip
    names = ["lima-65b"] + [f"baseline-{b}" for b in range(n_baselines)]
    models = [ModelEntry.objects.create(team=bench_team(), slug=n, name=n) for n in names]
    lengths = rng.integers(50, 3000, size=(len(models), n_prompts))
    outputs = Output.objects.bulk_create(
        [Output(prompt=p, model=m, text="x" * int(lengths[k, i]))
         for k, m in enumerate(models) for i, p in enumerate(prompts)],
        batch_size=5000)  # fmt: skip
    by = {(o.model_id, o.prompt_id): o for o in outputs}
    study = Study.objects.create(team=bench_team(),
                                 slug="bench", name="Bench study", prompt_set=pset,
                                 target_model=models[0], raters_per_item=CROWD_PER_ITEM,
                                 status=Study.Status.LAUNCHED)  # fmt: skip
    study.baselines.set(models[1:])
    items = Item.objects.bulk_create(
        [Item(study=study, prompt=p, target_output=by[(models[0].pk, p.pk)],
              baseline_output=by[(m.pk, p.pk)]) for m in models[1:] for p in prompts],
        batch_size=5000)  # fmt: skip
    raters = Rater.objects.bulk_create(
        [Rater(group="crowd", external_id_hash=f"bench-{r}") for r in range(200)]
    )
    judges = [Judge.objects.create(team=bench_team(), slug=j, name=j, model=j, base_url="http://127.0.0.1:9/v1",
                                   template="lima_pairwise") for j in LLM_JUDGES]  # fmt: skip
    verdict_names = np.array(["baseline", "tie", "target"])
    strength = np.linspace(0.6, -0.6, n_baselines)  # the target beats the first baselines

    def draw(n: int, b: int) -> np.ndarray:
        p_win = 1 / (1 + np.exp(-strength[b]))
        tie = rng.random(n) < 0.2
        win = rng.random(n) < p_win
        return verdict_names[np.where(tie, 1, np.where(win, 2, 0))]

    rows: list[Judgment] = []
    for n, item in enumerate(items):
        b = n // n_prompts
        for k, v in enumerate(draw(CROWD_PER_ITEM, b)):
            order = ("target_first", "baseline_first")[(n + k) % 2]
            rows.append(Judgment(item=item, rater=raters[(n + k) % 200], judge_group="crowd",
                                 verdict=v, order=order))  # fmt: skip
        if n % 2 == 0:
            rows.append(Judgment(item=item, judge_group="author", verdict=draw(1, b)[0],
                                 order="target_first"))  # fmt: skip
        for judge in judges:
            for order, v in zip(("target_first", "baseline_first"), draw(2, b), strict=True):
                rows.append(Judgment(item=item, judge=judge, judge_group=f"llm:{judge.slug}",
                                     verdict=v, order=order, parse_state="ok"))  # fmt: skip
    Judgment.objects.bulk_create(rows, batch_size=10_000)
    live_raters(study, raters[:50], items[:50])
    study_stats_invalidate(study.pk)
    return study


def build_alpaca_scale(n_studies: int, n_prompts: int) -> list:
    """n_studies pairwise studies on one prompt set against one baseline, one weighted LLM
    judgment per item (verdict and preference), bulk-created; returns the studies."""
    import numpy as np

    from evalhub.outputs.models import ModelEntry, Output
    from evalhub.prompts.models import Prompt, PromptSet
    from evalhub.studies.models import Item, Judge, Judgment, Study

    rng = np.random.default_rng(1)
    pset = PromptSet.objects.create(team=bench_team(), slug="alpaca-bench", name="AlpacaEval-size")
    prompts = Prompt.objects.bulk_create(
        [Prompt(prompt_set=pset, external_id=f"a{i}", text=f"Instruction {i}?", position=i)
         for i in range(n_prompts)], batch_size=5000)  # fmt: skip
    baseline = ModelEntry.objects.create(
        team=bench_team(), slug="alpaca-baseline", name="alpaca-baseline"
    )
    targets = [ModelEntry.objects.create(team=bench_team(), slug=f"alpaca-model-{k:02d}",
                                         name=f"model {k}")
               for k in range(n_studies)]  # fmt: skip
    lengths = rng.integers(200, 3000, size=(n_studies + 1, n_prompts))
    outputs = Output.objects.bulk_create(
        [Output(prompt=p, model=m, text="x" * int(lengths[k, i]))
         for k, m in enumerate([baseline, *targets]) for i, p in enumerate(prompts)],
        batch_size=5000)  # fmt: skip
    by = {(o.model_id, o.prompt_id): o for o in outputs}
    judge = Judge.objects.create(team=bench_team(), slug="weighted", name="weighted",
                                 model="weighted",
                                 base_url="http://127.0.0.1:9/v1",
                                 template="lima_pairwise")  # fmt: skip
    difficulty = rng.normal(0.0, 1.0, n_prompts)
    studies, judgments = [], []
    for k, target in enumerate(targets):
        study = Study.objects.create(team=bench_team(),
                                     slug=f"alpaca-{k:02d}", name=f"AlpacaEval {k}",
                                     prompt_set=pset, target_model=target,
                                     status=Study.Status.LAUNCHED)  # fmt: skip
        study.baselines.set([baseline])
        items = Item.objects.bulk_create(
            [Item(study=study, prompt=p, target_output=by[(target.pk, p.pk)],
                  baseline_output=by[(baseline.pk, p.pk)]) for p in prompts],
            batch_size=5000)  # fmt: skip
        longer = np.tanh((lengths[k + 1] - lengths[0]) / 1000.0)
        z = rng.normal(0, 1) + 0.7 * longer + 0.8 * difficulty + rng.normal(0, 0.5, n_prompts)
        pref = 1 / (1 + np.exp(-z))
        judgments += [
            Judgment(item=item, judge=judge, judge_group="llm:weighted", order="target_first",
                     verdict="target" if pref[i] >= 0.5 else "baseline",
                     preference=float(pref[i]), parse_state="ok")
            for i, item in enumerate(items)
        ]  # fmt: skip
        studies.append(study)
    Judgment.objects.bulk_create(judgments, batch_size=10_000)
    return studies


def alpaca_scale(client, n_studies: int, n_prompts: int, warm_repeat: int) -> None:
    """The AlpacaEval-scale case (see the module docstring): prints its lines."""
    from django.db import connection

    from evalhub.dashboards.cache import study_stats_invalidate
    from evalhub.dashboards.selectors.difficulty import KIND, difficulty_inputs
    from evalhub.fits.services import shared_fit_refresh

    start = time.perf_counter()
    studies = build_alpaca_scale(n_studies, n_prompts)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(f"AlpacaEval scale: {n_studies} studies x {n_prompts} items on one prompt set, "
          f"built in {time.perf_counter() - start:.1f} s")  # fmt: skip
    inputs = difficulty_inputs(studies[0].prompt_set_id, "alpaca-baseline", "llm:weighted")
    started = time.perf_counter()
    fit = shared_fit_refresh(kind=KIND, inputs=inputs)
    fit_s = time.perf_counter() - started
    print(f"  shared difficulty fit (the worker's job, once for all {n_studies}): {fit_s:.2f} s")

    def get(path: str) -> dict | None:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.json() if path.endswith(".json") else None

    def cold_json(slug: str) -> None:  # (an LC fit per study, landed below)
        study_stats_invalidate(next(s.pk for s in studies if s.slug == slug))
        (lc,) = get(f"/dashboards/studies/{slug}/data.json")["length_controlled"]
        assert lc["formula"] == "length_controlled_v1" and not lc["updating"], lc

    def cold_page(slug: str) -> None:
        study_stats_invalidate(next(s.pk for s in studies if s.slug == slug))
        get(f"/dashboards/studies/{slug}/")

    slugs = [s.slug for s in studies]
    for slug in slugs:  # each study's own LC fit: its job, as a worker would run it
        fits_land(lambda slug=slug: cold_page(slug))
    cold_data = [timed(lambda s=s: cold_json(s), 1)[0] for s in slugs]
    cold_pages = [timed(lambda s=s: cold_page(s), 1)[0] for s in slugs]
    warm_data = timed(lambda: get(f"/dashboards/studies/{slugs[0]}/data.json"), warm_repeat)
    warm_page = timed(lambda: get(f"/dashboards/studies/{slugs[0]}/"), warm_repeat)
    assert fit.compute_runs == 1
    summary("  cold JSON, each study", cold_data, 2.0)
    summary("  cold page, each study", cold_pages, 2.0)
    summary("  warm JSON", warm_data, 0.3)
    summary("  warm page", warm_page, 0.3)
    print(f"ratio: in-request fit before / cold JSON now = "
          f"{fit_s / statistics.median(cold_data):.1f}")  # fmt: skip


def live_raters(study: object, raters: list, items: list) -> None:
    """50 raters mid-session (a live reservation each), and the judgments spread over the
    last day, as the monitor would find them."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from evalhub.rating.models import RaterSession
    from evalhub.studies.models import Assignment

    now = timezone.now()
    assignments = Assignment.objects.bulk_create(
        [Assignment(item=item, rater=rater, reserved_at=now, expires_at=now + timedelta(minutes=15))
         for rater, item in zip(raters, items, strict=True)])  # fmt: skip
    RaterSession.objects.bulk_create(
        [RaterSession(token=f"bench-{a.pk}", study=study, rater=a.rater, quota=20, assignment=a,
                      consented_at=now) for a in assignments])  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE studies_judgment SET created_at = now() - (id % 86400) * interval '1 second'"
        )


def fits_land(request) -> int:
    """Compute every queued shared fit in this process, as the `fit` workers would, until a
    cold `request()` queues no more (the LC fit of a study waits on its difficulty fit).
    Returns how many were computed. A bulk load makes no job, so "cold" below times a page
    that finds its fits in PostgreSQL, as a deployed one does a moment after new data."""
    from evalhub.fits.models import SharedFit
    from evalhub.fits.services import shared_fit_compute

    computed = 0
    for _ in range(5):
        request()
        pending = list(SharedFit.objects.filter(status="pending").values_list("pk", flat=True))
        if not pending:
            break
        for pk in pending:
            computed += shared_fit_compute(fit_id=pk) is not None
    return computed


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(label: str, seconds: list[float], goal: float) -> None:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    verdict = "ok" if statistics.median(ms) < goal * 1000 else "OVER GOAL"
    print(f"{label:<28} median {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms   "
          f"(goal < {goal * 1000:.0f} ms: {verdict})")  # fmt: skip


def profile_cold(study: object) -> None:
    """cProfile of one uncached compute (no HTTP, no cache), top functions by own time."""
    import cProfile
    import pstats

    from evalhub.dashboards.selectors import compute_study_results

    profiler = cProfile.Profile()
    wall, cpu = time.perf_counter(), time.process_time()
    profiler.runcall(compute_study_results, study)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"profiled cold compute: {wall * 1000:.0f} ms wall, {cpu * 1000:.0f} ms CPU in-process")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("tottime").print_stats(12)
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(40)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=2000)
    parser.add_argument("--baselines", type=int, default=4)
    parser.add_argument("--warm-repeat", type=int, default=30)
    parser.add_argument("--cold-repeat", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the database for --reuse")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database")
    parser.add_argument(
        "--profile", action="store_true", help="also print cProfile of one cold compute"
    )
    parser.add_argument("--list-prompts", type=int, default=10_000)
    parser.add_argument("--alpaca-studies", type=int, default=22)
    parser.add_argument("--alpaca-prompts", type=int, default=805)
    parser.add_argument(
        "--smoke", action="store_true", help="60 prompts x 2 baselines, few repeats (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(prompts=60, baselines=2, warm_repeat=3, cold_repeat=1,
                          alpaca_studies=4, alpaca_prompts=60)  # fmt: skip

    _, url = scratch_urls(DB_NAME)
    os.environ["DATABASE_URL"] = url
    # Cached fits are keyed by study id: a fresh scratch database must not meet the keys of
    # an earlier one (or of another bench) in the same Redis database.
    os.environ["CACHE_KEY_PREFIX"] = f"{DB_NAME}-{os.getpid()}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    if not args.reuse:
        scratch_recreate(DB_NAME)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection, reset_queries
        from django.test import Client

        from evalhub.accounts.services import user_create
        from evalhub.dashboards.cache import study_stats_invalidate
        from evalhub.studies.models import Judgment, Study

        start = time.perf_counter()
        if args.reuse:
            study = Study.objects.get(slug="bench")
        else:
            call_command("migrate", verbosity=0)
            study = build(args.prompts, args.baselines)
        # What autovacuum does within a minute of a bulk load; without planner statistics
        # Postgres guesses ~10 judgments and sorts 100k rows on disk to group them (and the
        # created_at index would still list every judgment's pre-update version).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        n = Judgment.objects.filter(item__study=study).count()
        print(f"built: {n:,} judgments on {study.items.count():,} items "
              f"({args.prompts} prompts x {args.baselines} baselines) in "
              f"{time.perf_counter() - start:.1f} s")  # fmt: skip

        client = Client()
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.filter(username="bench").first() or user_create(
            username="bench", password=secrets.token_urlsafe(16), role="researcher"
        )
        client.force_login(bench_member(user))
        page, data = "/dashboards/studies/bench/", "/dashboards/studies/bench/data.json"

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        def cold(path: str) -> None:
            study_stats_invalidate(study.pk)
            get(path)

        get(page)  # connection, imports, template load
        started = time.perf_counter()
        landed = fits_land(lambda: cold(page))
        print(f"shared fits the page reads, computed as their jobs would: {landed} in "
              f"{time.perf_counter() - started:.2f} s")  # fmt: skip
        cold_page = timed(lambda: cold(page), args.cold_repeat)
        cold_data = timed(lambda: cold(data), args.cold_repeat)
        get(data)
        get(page)
        warm_page = timed(lambda: get(page), args.warm_repeat)
        warm_data = timed(lambda: get(data), args.warm_repeat)

        def raw_read() -> None:
            reset_queries()
            list(Judgment.objects.filter(item__study=study).values_list(
                "item_id", "judge_group", "verdict", "order", "score"))  # fmt: skip

        peer = timed(raw_read, args.cold_repeat)
        workspace_page, monitor = "/studies/bench/", "/studies/bench/monitor.json"
        get(workspace_page)
        warm_workspace = timed(lambda: get(workspace_page), args.warm_repeat)
        get(monitor)
        polls = timed(lambda: get(monitor), args.warm_repeat)
        sample = client.get(monitor).json()
        from evalhub.workspace.selectors import study_monitor

        server_polls = timed(lambda: study_monitor(study=study), args.warm_repeat)
        if args.profile:
            profile_cold(study)
        connection.close()
        print(f"study page, {n:,} judgments:")
        summary("  warm page", warm_page, 0.3)
        summary("  warm JSON", warm_data, 0.3)
        summary("  cold page", cold_page, 2.0)
        summary("  cold JSON", cold_data, 2.0)
        summary("  peer: raw values_list read", peer, 2.0)
        print(f"ratio: {statistics.median(cold_data) / statistics.median(peer):.2f}")
        print(f"workspace study page with the live monitor ({sample['active_raters']} raters "
              f"active, {sample['judgments_per_minute']} judgments/min):")  # fmt: skip
        summary("  warm study page", warm_workspace, 0.3)
        summary("  monitor poll, request (2 s cache)", polls, 0.02)
        summary("  monitor poll, uncached queries", server_polls, 0.02)
        summary("  peer: dashboard warm JSON poll", warm_data, 0.3)
        print(f"ratio: monitor poll / dashboard poll = "
              f"{statistics.median(polls) / statistics.median(warm_data):.2f}")  # fmt: skip
        from bench import list_cases

        list_cases.run(client=client, study=study, n_prompts=args.list_prompts,
                       repeat=args.warm_repeat, timed=timed, summary=summary)  # fmt: skip
        if args.alpaca_studies and not args.reuse:
            alpaca_scale(client, args.alpaca_studies, args.alpaca_prompts, args.warm_repeat)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            scratch_recreate(DB_NAME, drop_only=True)


if __name__ == "__main__":
    main()
