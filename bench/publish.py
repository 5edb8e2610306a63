"""Publishing a study of 100,000 judgments on 10,000 items as a release, against pandas
writing the same rows to parquet alone.

    .venv/bin/python bench/publish.py [--smoke] [--judgments 100000] [--items 10000]

Makes (and drops at the end) a scratch database `evalhub_bench_publish` on the server of
DATABASE_URL, migrates it, and bulk-creates one closed pairwise study: items = prompts x 4
baselines, judgments spread evenly over 20-judgment raters (with assignments), an LLM judge
on none (human judgments only), 2% of raters excluded with a reason.

Each measurement runs in a fresh process, which reports its own time and peak memory
(ru_maxrss):
- ours: release_build, the whole release (tables read from PostgreSQL with privacy applied,
  per-item aggregate, the card with the study's results, checksums, the zip archive), once
  with the results cold (computed inside, as on a study nobody opened) and once with them
  cached (as after the researcher looked at the results page, the usual case);
- the peer: pandas alone, `read_sql` of the same four SELECTs (prompts, outputs, items,
  judgments) and `DataFrame.to_parquet` of each with the same codec (zstd): the bare export.
`ratio:` = peer time / our time with results cached (goal >= 0.8, i.e. our assembly costs at
most 25% over the bare write), `ratio_cold:` the same with results computed inside; peak
memory goal < 500 MB. Bytes: the archive, and the peer's parquet files.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_NAME = "evalhub_bench_publish"
N_BASELINES = 4
PER_RATER = 20


def scratch_url() -> tuple[str, str]:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    parsed = urlparse(base)
    return urlunparse(parsed._replace(path="/postgres")), urlunparse(
        parsed._replace(path=f"/{DB_NAME}")
    )


def admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(scratch_url()[0], autocommit=True) as conn:
        conn.execute(sql)


def setup_django() -> None:
    os.environ["DATABASE_URL"] = scratch_url()[1]
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
    pset = PromptSet.objects.create(slug="bench", name="bench")
    prompts = Prompt.objects.bulk_create(
        [Prompt(prompt_set=pset, external_id=f"q{i}", text=f"Question {i}? " * 20, position=i,
                category=("advice", "writing", "code")[i % 3]) for i in range(n_prompts)],
        batch_size=5000)  # fmt: skip
    models = [ModelEntry.objects.create(slug=n, name=n)
              for n in ["lima-65b"] + [f"baseline-{b}" for b in range(N_BASELINES)]]  # fmt: skip
    outputs = Output.objects.bulk_create(
        [Output(prompt=p, model=m, text="An answer of some length. " * 40,
                provenance={"engine": "vllm", "temperature": 0.7, "top_p": 0.9, "seed": 0})
         for m in models for p in prompts], batch_size=5000)  # fmt: skip
    by = {(o.model_id, o.prompt_id): o for o in outputs}
    study = Study.objects.create(slug="bench", name="Bench study", prompt_set=pset,
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
    from evalhub.dashboards.selectors import study_results
    from evalhub.releases.models import Release
    from evalhub.releases.services import release_build
    from evalhub.studies.models import Study

    settings.RELEASES_DIR = Path(tempfile.mkdtemp(prefix="bench-releases-"))
    study = Study.objects.get(slug="bench")
    study_stats_invalidate(study.pk)
    if warm:
        study_results(study)
    Release.objects.filter(study=study).delete()  # each stage times a first version
    release = Release.objects.create(study=study, version=1)
    start = time.perf_counter()
    release = release_build(release=release)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "bytes": release.archive_bytes, "counts": release.counts}


def stage_peer() -> dict:
    import pandas as pd
    from django.db import connection

    from evalhub.outputs.models import Output
    from evalhub.prompts.models import Prompt
    from evalhub.releases.tables import JUDGMENT_FIELDS
    from evalhub.studies.models import Item, Judgment

    items = Item.objects.filter(study__slug="bench")
    queries = {
        "prompts": Prompt.objects.filter(pk__in=items.values("prompt_id")).order_by("id").values(
            "external_id", "position", "text", "context", "category", "source", "reference"),
        "outputs": Output.objects.filter(pk__in=items.values("target_output_id"))
        | Output.objects.filter(pk__in=items.values("baseline_output_id")),
        "items": items.order_by("id").values(
            "id", "prompt__external_id", "target_output_id", "baseline_output_id",
            "target_output__model__slug", "baseline_output__model__slug", "is_gold",
            "gold_answer"),
        "judgments": Judgment.objects.filter(item__study__slug="bench").order_by("id").values(
            *JUDGMENT_FIELDS),
    }  # fmt: skip
    queries["outputs"] = (
        queries["outputs"]
        .order_by("id")
        .values("id", "prompt__external_id", "model__slug", "sample_index", "text", "turns",
                "provenance")
    )  # fmt: skip
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
    parser.add_argument("--stage", choices=["ours-cold", "ours-warm", "peer"], help="internal")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    if args.stage:
        import warnings

        warnings.simplefilter("ignore")  # pandas on a DB-API connection says so
        setup_django()
        found = stage_peer() if args.stage == "peer" else stage_ours(args.stage == "ours-warm")
        found["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(found))
        return
    if args.smoke:
        args.judgments, args.items = 1_000, 100
    admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    admin(f"CREATE DATABASE {DB_NAME}")
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
        print(f"counts: {json.dumps(warm['counts'])}")
        for label, r in (("pandas read_sql + to_parquet", peer), ("ours, results cold", cold),
                         ("ours, results cached", warm)):  # fmt: skip
            print(f"{label:<30} {r['seconds']:7.2f} s   peak {r['peak_mb']:7.1f} MB   "
                  f"{r['bytes'] / 1e6:7.2f} MB written")  # fmt: skip
        ratio, ratio_cold = peer["seconds"] / warm["seconds"], peer["seconds"] / cold["seconds"]
        peak = max(cold["peak_mb"], warm["peak_mb"])
        print(f"ratio: {ratio:.2f} (goal >= 0.8: {'ok' if ratio >= 0.8 else 'UNDER GOAL'})")
        print(f"ratio_cold: {ratio_cold:.2f}")
        print(f"peak: {peak:.1f} MB (goal < 500 MB: {'ok' if peak < 500 else 'OVER GOAL'})")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


if __name__ == "__main__":
    main()
