"""Publishing a study of 100,000 judgments on 10,000 items as a release, against pandas
writing the same rows to parquet alone.

    .venv/bin/python bench/publish.py [--smoke] [--judgments 100000] [--items 10000]

Makes (and drops at the end) a scratch database `evalhub_bench_publish` on the server of
DATABASE_URL, migrates it, and bulk-creates one closed pairwise study: items = prompts x 4
baselines, judgments spread evenly over 20-judgment raters (with assignments), an LLM judge
on none (human judgments only), 2% of raters excluded with a reason.

Each measurement runs in a fresh process, which reports its own time and peak memory
(VmHWM):
- ours: release_build, the whole release: the seven tables read from PostgreSQL with privacy
  applied (raters hashed, exclusion reasons), the per-item aggregate, the dataset card with
  the study's headline results (dashboards.selectors.headline_results), checksums and the
  zip archive. Once with those results cold (computed inside: a first publish) and once with
  them cached (a second publish with no new judgment).
- the peer: pandas alone on the same data: `read_sql` of the very SELECTs that fill the
  prompts, outputs, items and judgments tables (evalhub.releases.tables.*_rows: the same rows
  and columns, raters as ids) and `DataFrame.to_parquet` of each with the same codec (zstd).
  It is the bare export: no privacy step, no aggregate, no card, no checksums, no archive.
`ratio:` = peer time / our time with results cold (goal >= 0.8, i.e. our assembly costs at
most 25% over the bare write), `ratio_warm:` the same with results cached; peak memory goal
< 500 MB. Bytes: the archive, and the peer's parquet files. `phases:` where our cold time
goes, from a third run under cProfile (cumulative seconds, inflated by the profiler).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

DB_NAME = "evalhub_bench_publish"
N_BASELINES = 4
PER_RATER = 20


def setup_django() -> None:
    os.environ["DATABASE_URL"] = scratch_urls(DB_NAME)[1]
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django

    django.setup()


def build(n_judgments: int, n_items: int) -> None:
    import numpy as np
    from django.utils import timezone

    from evalhub.crowd.models import RaterExclusion
    from evalhub.outputs.models import ModelEntry, Output
    from evalhub.prompts.models import Prompt, PromptSet
    from evalhub.studies.models import Assignment, Item, Judgment, Rater, Study

    rng = np.random.default_rng(0)
    now = timezone.now()
    n_prompts = max(1, n_items // N_BASELINES)
    pset = PromptSet.objects.create(team=bench_team(), slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        [Prompt(prompt_set=pset, external_id=f"q{i}", text=f"Question {i}? " * 20, position=i,
                category=("advice", "writing", "code")[i % 3]) for i in range(n_prompts)],
        batch_size=5000)  # fmt: skip
    models = [ModelEntry.objects.create(team=bench_team(), slug=n, name=n)
              for n in ["lima-65b"] + [f"baseline-{b}" for b in range(N_BASELINES)]]  # fmt: skip
    outputs = Output.objects.bulk_create(
        [Output(prompt=p, model=m, text="An answer of some length. " * 40,
                provenance={"engine": "vllm", "temperature": 0.7, "top_p": 0.9, "seed": 0})
         for m in models for p in prompts], batch_size=5000)  # fmt: skip
    by = {(o.model_id, o.prompt_id): o for o in outputs}
    study = Study.objects.create(team=bench_team(),
                                 slug="bench", name="Bench study", prompt_set=pset,
                                 target_model=models[0], raters_per_item=10,
                                 status=Study.Status.CLOSED, launched_at=now, closed_at=now,
                                 config={"schema": 1, "raters_per_item": 10},
                                 config_hash="0" * 64)  # fmt: skip
    study.baselines.set(models[1:])
    items = Item.objects.bulk_create(
        [Item(study=study, prompt=p, target_output=by[(models[0].pk, p.pk)],
              baseline_output=by[(m.pk, p.pk)]) for m in models[1:] for p in prompts],
        batch_size=5000)  # fmt: skip
    n_raters = max(1, n_judgments // PER_RATER)
    raters = Rater.objects.bulk_create(
        [Rater(group="crowd", external_id_hash=secrets.token_hex(32)) for _ in range(n_raters)],
        batch_size=5000,
    )
    rater_of = np.repeat(np.arange(n_raters), PER_RATER)[:n_judgments]
    # Rater r judges items r*20 .. r*20+19 (mod n): distinct items per rater.
    item_of = np.arange(n_judgments) % len(items)
    side_a = rng.random(n_judgments) < 0.5
    verdicts = rng.choice(np.array(["target", "tie", "baseline"]), n_judgments, p=(0.5, 0.2, 0.3))
    excluded_raters = set(range(0, n_raters, 50))
    assignments = Assignment.objects.bulk_create(
        [Assignment(item_id=items[i].pk, rater_id=raters[r].pk, target_side="A" if a else "B",
                    status="submitted", reserved_at=now, expires_at=now, submitted_at=now)
         for i, r, a in zip(item_of.tolist(), rater_of.tolist(), side_a.tolist(), strict=True)],
        batch_size=10_000)  # fmt: skip
    Judgment.objects.bulk_create(
        [Judgment(item_id=items[i].pk, assignment_id=asg.pk, rater_id=raters[r].pk,
                  judge_group="crowd", order="target_first" if a else "baseline_first",
                  raw_choice="A" if a else "B", verdict=v, time_on_task_ms=30_000,
                  excluded=r in excluded_raters)
         for i, r, asg, a, v in zip(item_of.tolist(), rater_of.tolist(), assignments,
                                    side_a.tolist(), verdicts.tolist(), strict=True)],
        batch_size=10_000)  # fmt: skip
    RaterExclusion.objects.bulk_create(
        RaterExclusion(study=study, rater=raters[r], action="exclude", reason="bench: random",
                       judgments=PER_RATER) for r in excluded_raters)  # fmt: skip


def stage_ours(warm: bool) -> dict:
    from django.conf import settings

    from evalhub.dashboards.cache import study_stats_invalidate
    from evalhub.dashboards.selectors import headline_results
    from evalhub.releases.models import Release
    from evalhub.releases.services import release_build
    from evalhub.studies.models import Study

    settings.RELEASES_DIR = Path(tempfile.mkdtemp(prefix="bench-releases-"))
    study = Study.objects.get(slug="bench")
    study_stats_invalidate(study.pk)
    if warm:
        headline_results(study)
    Release.objects.filter(study=study).delete()  # each stage times a first version
    release = Release.objects.create(study=study, version=1)
    start = time.perf_counter()
    release = release_build(release=release)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "bytes": release.archive_bytes, "counts": release.counts}


def stage_peer() -> dict:
    import pandas as pd
    from django.db import connection

    from evalhub.releases.tables import item_rows, judgment_rows, output_rows, prompt_rows
    from evalhub.studies.models import Study

    study = Study.objects.get(slug="bench")
    queries = {"prompts": prompt_rows(study), "outputs": output_rows(study),
               "items": item_rows(study), "judgments": judgment_rows(study)}  # fmt: skip
    out = Path(tempfile.mkdtemp(prefix="bench-peer-"))
    connection.ensure_connection()
    start = time.perf_counter()
    total = 0
    for name, qs in queries.items():
        sql, params = qs.query.sql_with_params()
        frame = pd.read_sql(sql, connection.connection, params=params)
        path = out / f"{name}.parquet"
        frame.to_parquet(path, compression="zstd", index=False)
        total += path.stat().st_size
    return {"seconds": time.perf_counter() - start, "bytes": total}


# What the phase table names: (label, function name as cProfile records it).
PHASES = [
    ("card's results (cold)", "headline_results"),
    ("tables from PostgreSQL", "release_tables"),
    ("  of which COPY + parse", "queryset_table"),
    ("  of which item aggregate", "item_aggregate"),
    ("parquet writes", "tables_write"),
    ("dataset card", "dataset_card"),
    ("checksums", "checksums_write"),
    ("archive + its sha256", "publish_folder"),
]


def stage_profile() -> dict:
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    stage_ours(warm=False)
    profile.disable()
    stats = pstats.Stats(profile).stats
    by_name: dict[str, float] = {}
    for (_, _, name), (_, _, _, cumulative, _) in stats.items():
        by_name[name] = max(by_name.get(name, 0.0), cumulative)
    return {"phases": {label: by_name.get(name, 0.0) for label, name in PHASES},
            "seconds": by_name.get("release_build", 0.0), "bytes": 0}  # fmt: skip


def peak_mb() -> float:
    """This process's peak resident memory. Not ru_maxrss: Linux carries into it the peak of
    the process image before exec, i.e. of the parent that built 100,000 rows and forked us;
    VmHWM is this image's own."""
    status = Path("/proc/self/status").read_text()
    return int(next(x for x in status.splitlines() if x.startswith("VmHWM:")).split()[1]) / 1024


def run_stage(stage: str, args: argparse.Namespace) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage], capture_output=True, text=True, check=False
    )
    if done.returncode:
        sys.exit(f"stage {stage} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--judgments", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--smoke", action="store_true", help="1,000 judgments on 100 items")
    parser.add_argument("--stage", choices=["ours-cold", "ours-warm", "peer", "profile"],
                        help="internal")  # fmt: skip
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.stage:
        import warnings

        warnings.simplefilter("ignore")  # pandas on a DB-API connection says so
        setup_django()
        if args.stage == "peer":
            found = stage_peer()
        elif args.stage == "profile":
            found = stage_profile()
        else:
            found = stage_ours(args.stage == "ours-warm")
        found["peak_mb"] = peak_mb()
        print(json.dumps(found))
        return
    if args.smoke:
        args.judgments, args.items = 1_000, 100
    scratch_recreate(DB_NAME)
    try:
        setup_django()
        from django.core.management import call_command
        from django.db import connection

        start = time.perf_counter()
        call_command("migrate", verbosity=0)
        build(args.judgments, args.items)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        connection.close()
        print(f"built: {args.judgments:,} judgments on {args.items:,} items "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip
        peer = run_stage("peer", args)
        cold = run_stage("ours-cold", args)
        warm = run_stage("ours-warm", args)
        profiled = run_stage("profile", args)
        print(f"counts: {json.dumps(warm['counts'])}")
        for label, r in (("pandas read_sql + to_parquet", peer), ("ours, results cold", cold),
                         ("ours, results cached", warm)):  # fmt: skip
            print(f"{label:<30} {r['seconds']:7.2f} s   peak {r['peak_mb']:7.1f} MB   "
                  f"{r['bytes'] / 1e6:7.2f} MB written")  # fmt: skip
        ratio, ratio_warm = peer["seconds"] / cold["seconds"], peer["seconds"] / warm["seconds"]
        peak = max(cold["peak_mb"], warm["peak_mb"])
        print(f"ratio: {ratio:.2f} (results cold; goal >= 0.8: "
              f"{'ok' if ratio >= 0.8 else 'UNDER GOAL'})")  # fmt: skip
        print(f"ratio_warm: {ratio_warm:.2f} (results cached)")
        print(f"peak: {peak:.1f} MB (goal < 500 MB: {'ok' if peak < 500 else 'OVER GOAL'})")
        print(f"phases: (cProfile, cumulative; release_build {profiled['seconds']:.2f} s)")
        for label, seconds in profiled["phases"].items():
            print(f"  {label:<28} {seconds:6.2f} s")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            scratch_recreate(DB_NAME, drop_only=True)


if __name__ == "__main__":
    main()
