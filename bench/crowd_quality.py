"""Crowd quality at 100,000 judgments by 5,000 raters: the raters table (warm and cold),
results recomputed after excluding 100 raters, and Dawid-Skene through EvalHub against
crowd-kit called directly on the same arrays.

    .venv/bin/python bench/crowd_quality.py [--raters 5000] [--per-rater 20]

Makes (and drops at the end) a scratch database `evalhub_bench_crowd` on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrates it, and bulk-creates
one launched pairwise study: 20,000 items (5,000 prompts x 4 baselines), 5,000 completed
rating sessions of 20 judgments each (with their assignments and pool counts), 80% honest
raters (a planted truth 85% of the time), 10% random clickers, 5% always-left and 5%
too-fast. The cache is the configured Redis (REDIS_URL); "cold" bumps the study's stats
version (what a judgment write does).

Goals: table warm < 300 ms, cold < 2 s; results recomputed after excluding 100 raters
< 2 s. The one-coin fit behind the flags and the default aggregate is a worker's job: the
bench makes it after the load and again after the exclusion, and times it apart. The
named peer for Dawid-Skene is crowd-kit's DawidSkene.fit on the same DataFrame columns,
in the same run: `ratio` = crowd-kit's time / ours (>= 0.9: our wrapping costs at most
10%).
"""

from __future__ import annotations

import argparse
import gc
import os
import secrets
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_member, bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

DB_NAME = os.environ.get("BENCH_CROWD_DB", "evalhub_bench_crowd")  # one per parallel worktree
N_PROMPTS, N_BASELINES = 5000, 4
KINDS = (("honest", 0.8), ("random", 0.1), ("left", 0.05), ("fast", 0.05))


def build(n_raters: int, per_rater: int) -> object:
    """The study with its raters, sessions, assignments and judgments, bulk-created."""
    import numpy as np
    from django.utils import timezone

    from evalhub.outputs.models import ModelEntry, Output
    from evalhub.prompts.models import Prompt, PromptSet
    from evalhub.rating.models import ItemPage, RaterSession
    from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study

    rng = np.random.default_rng(0)
    now = timezone.now()
    pset = PromptSet.objects.create(team=bench_team(), slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        [Prompt(prompt_set=pset, external_id=f"q{i}", text=f"Question {i}?", position=i)
         for i in range(N_PROMPTS)], batch_size=5000)  # fmt: skip
    models = [ModelEntry.objects.create(team=bench_team(), slug=n, name=n)
              for n in ["lima-65b"] + [f"baseline-{b}" for b in range(N_BASELINES)]]  # fmt: skip
    outputs = Output.objects.bulk_create(
        [Output(prompt=p, model=m, text="x" * 400) for m in models for p in prompts],
        batch_size=5000)  # fmt: skip
    by = {(o.model_id, o.prompt_id): o for o in outputs}
    study = Study.objects.create(team=bench_team(),
                                 slug="bench", name="Bench study", prompt_set=pset,
                                 target_model=models[0], raters_per_item=5,
                                 status=Study.Status.LAUNCHED, launched_at=now)  # fmt: skip
    study.baselines.set(models[1:])
    items = Item.objects.bulk_create(
        [Item(study=study, prompt=p, target_output=by[(models[0].pk, p.pk)],
              baseline_output=by[(m.pk, p.pk)]) for m in models[1:] for p in prompts],
        batch_size=5000)  # fmt: skip
    item_ids = np.array([i.pk for i in items])
    n_items = item_ids.size
    kinds = rng.choice(len(KINDS), size=n_raters, p=[p for _, p in KINDS])
    raters = Rater.objects.bulk_create(
        [Rater(group="crowd", external_id_hash=secrets.token_hex(32)) for _ in range(n_raters)],
        batch_size=5000,
    )
    RaterSession.objects.bulk_create(
        [RaterSession(study=study, rater=r, token=secrets.token_urlsafe(32), quota=per_rater,
                      done=per_rater, status="completed") for r in raters],
        batch_size=5000)  # fmt: skip
    # Each rater: `per_rater` distinct items (a random offset and stride over the items).
    n = n_raters * per_rater
    rater_of = np.repeat(np.arange(n_raters), per_rater)
    start = rng.integers(0, n_items, n_raters)
    item_of = (start[rater_of] + np.tile(np.arange(per_rater), n_raters) * 997) % n_items
    truth = rng.choice(3, size=n_items, p=(0.3, 0.15, 0.55))  # baseline, tie, target
    side_a = rng.random(n) < 0.5
    kind = kinds[rater_of]
    said = truth[item_of].copy()
    wrong = rng.random(n) >= 0.85
    said[wrong] = (said[wrong] + rng.integers(1, 3, wrong.sum())) % 3
    noise = rng.integers(0, 3, n)
    said = np.where((kind == 1) | (kind == 3), noise, said)
    said = np.where(kind == 2, np.where(side_a, 2, 0), said)  # always the left answer
    choice = np.where(said == 1, "tie", np.where((said == 2) == side_a, "A", "B"))
    ms = np.where(kind == 3, rng.integers(300, 1500, n), rng.integers(15_000, 90_000, n))
    verdicts = np.array(["baseline", "tie", "target"])[said]
    assignments = Assignment.objects.bulk_create(
        [Assignment(item_id=int(item_ids[i]), rater_id=raters[r].pk,
                    target_side="A" if a else "B", status="submitted", reserved_at=now,
                    expires_at=now, submitted_at=now)
         for i, r, a in zip(item_of.tolist(), rater_of.tolist(), side_a.tolist(), strict=True)],
        batch_size=10_000)  # fmt: skip
    Judgment.objects.bulk_create(
        [Judgment(item_id=int(item_ids[i]), assignment_id=a.pk, rater_id=raters[r].pk,
                  judge_group="crowd", order="target_first" if sa else "baseline_first",
                  raw_choice=c, verdict=v, time_on_task_ms=int(t), too_fast=bool(t < 2000))
         for i, r, a, sa, c, v, t in zip(item_of.tolist(), rater_of.tolist(), assignments,
                                         side_a.tolist(), choice.tolist(), verdicts.tolist(),
                                         ms.tolist(), strict=True)],
        batch_size=10_000)  # fmt: skip
    taken = np.bincount(item_of, minlength=n_items)
    ItemPage.objects.bulk_create(
        [ItemPage(item=item, study=study, taken=int(taken[k]), served=int(taken[k]))
         for k, item in enumerate(items)], batch_size=5000)  # fmt: skip
    return study


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def summary(label: str, seconds: list[float], goal: float | None) -> None:
    ms = sorted(1000 * s for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * (len(ms) - 1)))]
    verdict = ""
    if goal is not None:
        ok = "ok" if statistics.median(ms) < goal * 1000 else "OVER GOAL"
        verdict = f"   (goal < {goal * 1000:.0f} ms: {ok})"
    print(f"{label:<44} median {statistics.median(ms):8.1f} ms   p95 {p95:8.1f} ms{verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--raters", type=int, default=5000)
    parser.add_argument("--per-rater", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="cold runs")
    parser.add_argument("--ds-repeat", type=int, default=5, help="Dawid-Skene runs of each")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--profile", action="store_true", help="also print cProfile of one cold table compute"
    )
    parser.add_argument(
        "--smoke", action="store_true", help="60 raters x 10 judgments, one run (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(raters=60, per_rater=10, repeat=1, ds_repeat=1)

    _, url = scratch_urls(DB_NAME)
    os.environ["DATABASE_URL"] = url
    # Cached fits are keyed by study id: a fresh scratch database must not meet the keys of
    # an earlier one (or of another bench) in the same Redis database.
    os.environ["CACHE_KEY_PREFIX"] = f"{DB_NAME}-{os.getpid()}"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost")
    scratch_recreate(DB_NAME)
    try:
        import django

        django.setup()
        import numpy as np
        import pandas as pd
        from crowdkit.aggregation import DawidSkene
        from django.core.management import call_command
        from django.db import connection
        from django.test import Client
        from pandas.errors import Pandas4Warning

        from evalhub.accounts.services import user_create
        from evalhub.crowd.selectors import human_judgments, raters_table
        from evalhub.crowd.services import raters_exclude
        from evalhub.dashboards.cache import study_stats_invalidate
        from evalhub.dashboards.selectors import study_results
        from evalhub.dashboards.selectors.crowd_fit import ONE_COIN_KIND
        from evalhub.fits.services import shared_fit_refresh
        from evalhub.stats.dawid_skene import N_ITER, TOL, dawid_skene
        from evalhub.studies.models import Judgment

        warnings.simplefilter("ignore", Pandas4Warning)
        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        study = build(args.raters, args.per_rater)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        n = Judgment.objects.filter(item__study=study).count()
        print(f"built: {n:,} judgments by {args.raters:,} raters on "
              f"{study.items.count():,} items in {time.perf_counter() - start:.1f} s")  # fmt: skip

        # The one-coin fit is a worker's job (evalhub.dashboards.one_coin_fit); after a bulk
        # load it is made here, as a worker would, and timed on its own.
        fit_inputs = {"study": study.pk}
        fitted = timed(lambda: shared_fit_refresh(kind=ONE_COIN_KIND, inputs=fit_inputs), 1)

        def cold_table() -> None:
            study_stats_invalidate(study.pk)
            raters_table(study)

        cold_table()  # imports (crowd-kit), connection
        if args.profile:
            import cProfile
            import pstats

            from evalhub.crowd.selectors import compute_raters_table

            profiler = cProfile.Profile()
            profiler.enable()
            compute_raters_table(study)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("tottime").print_stats(15)
        cold = timed(cold_table, args.repeat)
        warm = timed(lambda: raters_table(study), 20)
        client = Client()
        user = user_create(username="bench", password=secrets.token_urlsafe(16),
                           role="researcher")  # fmt: skip
        client.force_login(bench_member(user))
        api = "/api/v1/studies/bench/raters/?sort=-left_share"

        def get(path: str) -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)

        def cold_api() -> None:
            study_stats_invalidate(study.pk)
            get(api)

        cold_http = timed(cold_api, args.repeat)
        warm_http = timed(lambda: get(api), 20)
        page = "/dashboards/studies/bench/raters/?sort=-left_share"
        get(page)
        warm_page = timed(lambda: get(page), 10)

        # Exclude 100 flagged raters, then the results and the table again.
        flagged = [r["rater"] for r in raters_table(study)["raters"] if r["flagged"]][:100]
        study_results(study)
        t0 = time.perf_counter()
        outcome = raters_exclude(study=study, rater_ids=flagged, reason="bench")
        study_stats_invalidate(study.pk)  # on commit, in a request
        t1 = time.perf_counter()
        results = study_results(study)
        t2 = time.perf_counter()
        raters_table(study)
        t3 = time.perf_counter()
        assert results["excluded"]["raters"] == len(outcome.raters) == len(flagged)
        # No fit in the request: the majority over every item, "updating", until the worker.
        assert results["aggregation"]["state"] == "updating", results["aggregation"]["state"]
        refit = timed(lambda: shared_fit_refresh(kind=ONE_COIN_KIND, inputs=fit_inputs), 1)
        t4 = time.perf_counter()
        landed = study_results(study)  # on_done made the cached page stale
        t5 = time.perf_counter()
        assert landed["aggregation"]["state"] == "current"

        # Dawid-Skene: ours on the arrays vs crowd-kit's fit on the same columns.
        judged = human_judgments(study)
        real = ~judged.is_check & (judged.verdict >= 0)
        item, rater, label = judged.item[real], judged.rater[real], judged.verdict[real]

        def ours() -> None:
            dawid_skene(item, rater, label, n_classes=3)

        def theirs() -> None:
            frame = pd.DataFrame({"task": item, "worker": rater, "label": label})
            DawidSkene(n_iter=N_ITER, tol=TOL).fit(frame)

        ours()
        theirs()
        ds_ours, ds_theirs = [], []
        for k in range(args.ds_repeat):
            # Interleaved, in alternating order, each after a full collection: drift and
            # the previous fit's garbage fall on both alike.
            for fn, into in ((ours, ds_ours), (theirs, ds_theirs))[:: 1 if k % 2 else -1]:
                gc.collect()
                into += timed(fn, 1)
        same = dawid_skene(item, rater, label, n_classes=3)
        fit = DawidSkene(n_iter=N_ITER, tol=TOL).fit(
            pd.DataFrame({"task": item, "worker": rater, "label": label})
        )
        assert np.allclose(same.proba, fit.probas_.reindex(index=same.items, columns=[0, 1, 2]))
        connection.close()

        print(f"raters table, {n:,} judgments, {args.raters:,} raters:")
        summary("  warm (selector, cached)", warm, 0.3)
        summary("  cold (selector; one-coin fit stored)", cold, 2.0)
        summary("  warm API page (GET /raters/)", warm_http, 0.3)
        summary("  cold API page (GET /raters/)", cold_http, 2.0)
        summary("  warm HTML page (500 rows shown)", warm_page, None)
        print(f"exclude 100 raters ({outcome.judgments:,} judgments):")
        summary("  exclusion (service)", [t1 - t0], None)
        summary("  results recomputed (study_results)", [t2 - t1], 2.0)
        summary("  raters table recomputed", [t3 - t2], 2.0)
        summary("  one-coin refit (worker job, no request)", refit, None)
        summary("  results with the worker's new fit", [t5 - t4], 2.0)
        summary("one-coin fit after the load (worker job)", fitted, None)
        print(f"Dawid-Skene on {int(real.sum()):,} judgments:")
        summary("  EvalHub (evalhub.stats.dawid_skene)", ds_ours, None)
        summary("  peer: crowd-kit DawidSkene.fit direct", ds_theirs, None)
        print(f"ratio: {statistics.median(ds_theirs) / statistics.median(ds_ours):.2f}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            scratch_recreate(DB_NAME, drop_only=True)


if __name__ == "__main__":
    main()
