"""Adaptive pairing in a full live-battle run: 200 simulated battles over 6 models, driven
through the real services (a Prolific session, conversation_start choosing the pair, the
turn opened and finished as a stream would finish it, the vote), once with adaptive pairing
and once with uniform pairing, at the same budget and with the same simulated raters.

    .venv/bin/python bench/adaptive_pairing.py [--battles 200] [--models 6] [--seed 0] [--seeds 3]
    .venv/bin/python bench/adaptive_pairing.py --smoke     # 30 battles over 4 models, 1 seed
    .venv/bin/python bench/adaptive_pairing.py --sim-only --sim-seeds 0:75 --sim-rows rows.jsonl

Then the pure simulation with a known truth (evalhub.stats.pairing_design), at the same size
over many seeds (--sim-seeds, default 0:300) and four truths (spread, close, one dominant
model, wide): each adaptive rule against uniform on the same votes, a table of the mean ±
sd of the rule / uniform mean interval width and neighbour-difference width, the share of
seeds where the rule loses, and the Kendall tau with the truth. --sim-rows appends each
seed's rows to a JSON-lines file and prints the table over every row in it, so a long run
can be split into chunks (each under the bench lock for a few minutes).

Raters vote by a known Bradley-Terry truth (model i has strength 0.35 * i on the logit
scale; a tie 10% of the time). Uniform pairing gives the next battle to the least-battled
pair; adaptive gives it to the pair whose vote most narrows the BT intervals under the
current ratings (evalhub.stats.pairing_design.information_pair, refitted every 10 votes, every
pair kept at half its uniform share or more). No pair reaches its target
(the budget is the target), so each rule decides every battle. Prints the pair counts of each
run, each model's BT rating and 95% interval, the mean and widest interval, the Spearman
correlation of the ratings with the truth, and the time conversation_start took (for the
first seed); then each seed's adaptive / uniform mean interval width, and `ratio:` their
mean ± sd over the seeds (lower is better).

A scratch database (`evalhub_bench_pairing_<pid>`, on DATABASE_URL's server) is made and
dropped; the results cache is BENCH_REDIS_URL (default redis://127.0.0.1:6379/14) under a
key prefix of its own. No model server: the answers are written as the stream writes them.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

BENCH_DB = f"evalhub_bench_pairing_{os.getpid()}"
STEP = 0.35  # logit strength between neighbouring models
TIE_SHARE = 0.10


def _vote(strength: dict[int, float], left: int, right: int, rng: random.Random) -> str:
    """A simulated rater's vote by the BT truth: A (left), B (right) or tie."""
    if rng.random() < TIE_SHARE:
        return "tie"
    p_left = 1 / (1 + math.exp(strength[right] - strength[left]))
    return "A" if rng.random() < p_left else "B"


def run(models: list, *, adaptive: bool, battles: int, seed: int) -> dict:
    """One study of `battles` battles; returns its pair counts, board and timings."""
    from evalhub.dashboards.selectors import study_results
    from evalhub.live.creation import live_study_create
    from evalhub.live.models import Conversation
    from evalhub.live.services import battle_vote, conversation_start, live_session_consent
    from evalhub.live.turns import turn_finish, turn_open
    from evalhub.rating.services import session_start_crowd

    name = "adaptive" if adaptive else "uniform"
    study = live_study_create(
        team=bench_team(), slug=f"pairing-{name}-{seed}", name=f"Pairing ({name})",
        mode="battle", models=models,
        max_turns=1, session_quota=1, target_per_pair=battles, adaptive=adaptive,
    )  # fmt: skip
    strength = {m.pk: STEP * i for i, m in enumerate(models)}
    rng = random.Random(seed)  # the same raters in both runs
    draws = random.Random(f"pairing {seed}")  # the pairing's own draws among equal choices
    start_ms = []
    for i in range(battles):
        pid = f"{name}{i}"
        session = live_session_consent(session=session_start_crowd(study=study, participant_id=pid))
        began = time.perf_counter()
        conversation = conversation_start(session=session, rng=draws)
        start_ms.append((time.perf_counter() - began) * 1000)
        for opened in turn_open(session_token=session.token, crowd_code=study.crowd_code,
                                token=conversation.token, text=f"Prompt {i}"):  # fmt: skip
            turn_finish(turn_id=opened.turn_id, text=f"Answer {opened.side}",
                        provenance={"completion_tokens": 2, "finish_reason": "stop"})  # fmt: skip
        vote = _vote(strength, conversation.left_id, conversation.right_id, rng)
        battle_vote(session=session, token=conversation.token, choice=vote)
    counts: dict[tuple[str, str], int] = {}
    order = {m.pk: i for i, m in enumerate(models)}
    for left, right in Conversation.objects.filter(study=study).values_list("left", "right"):
        a, b = sorted((left, right), key=order.__getitem__)
        key = (models[order[a]].slug, models[order[b]].slug)
        counts[key] = counts.get(key, 0) + 1
    board = {row["model"]: row for row in study_results(study)["leaderboard"]["models"]}
    return {"counts": counts, "board": board, "start_ms": start_ms}


def _spearman(xs: list[float], ys: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(xs, ys).statistic)


def report(models: list, runs: dict[str, dict]) -> float:
    slugs = [m.slug for m in models]
    for name, result in runs.items():
        print(f"\n{name}: battles per pair (row model vs column model)")
        print(" " * 8 + "".join(f"{s:>8s}" for s in slugs))
        for a in slugs:
            cells = []
            for b in slugs:
                n = result["counts"].get((a, b)) or result["counts"].get((b, a)) or 0
                cells.append(f"{'-' if a == b else n:>8}")
            print(f"{a:>8s}" + "".join(cells))
        values = [n for n in result["counts"].values()]
        print(f"pairs battled: {len(values)}; per pair min {min(values)}, max {max(values)}")
    print(f"\n{'model':>8s} {'truth':>6s} | {'uniform: rating [95% interval] width':>38s} | "
          f"{'adaptive: rating [95% interval] width':>38s}")  # fmt: skip
    for i, slug in enumerate(slugs):
        cells = []
        for name in ("uniform", "adaptive"):
            row = runs[name]["board"].get(slug)
            cells.append(
                f"{row['rating']:8.1f} [{row['lower']:7.1f}, {row['upper']:7.1f}] "
                f"{row['upper'] - row['lower']:7.1f}"
                if row
                else f"{'(no battles)':>38s}"
            )
        print(f"{slug:>8s} {STEP * i:6.2f} | {cells[0]:>38s} | {cells[1]:>38s}")
    widths = {}
    for name, result in runs.items():
        rows = [result["board"][s] for s in slugs if s in result["board"]]
        spans = [r["upper"] - r["lower"] for r in rows]
        widths[name] = statistics.mean(spans)
        rho = _spearman([STEP * slugs.index(r["model"]) for r in rows], [r["rating"] for r in rows])
        starts = sorted(result["start_ms"])
        p95 = starts[min(len(starts) - 1, int(0.95 * len(starts)))]
        print(f"{name:>8s}: mean interval width {widths[name]:.1f}, widest {max(spans):.1f}, "
              f"Spearman with truth {rho:.2f}; conversation_start p50 "
              f"{statistics.median(starts):.1f} ms, p95 {p95:.1f} ms")  # fmt: skip
    return widths["adaptive"] / widths["uniform"]


SIM_RULES = ("information", "neighbours", "widest")


def simulate(args: argparse.Namespace) -> None:
    """The known-truth simulation over seeds, and its table (see the module docstring)."""
    from evalhub.stats.pairing_design import (
        TRUTHS,
        RuleComparison,
        known_truth_ceiling,
        seed_rows,
    )

    first, _, last = args.sim_seeds.partition(":")
    seeds = range(int(first), int(last))
    rules = args.rules.split(",")
    began = time.perf_counter()
    rows = []
    for name, truth in TRUTHS.items():
        for seed in seeds:
            for row in seed_rows(truth[: args.models], args.battles, rules, seed,
                                 rounds=args.rounds):  # fmt: skip
                rows.append({"truth": name, **row})
    print(f"\nsimulated seeds {first}:{last}, rules {', '.join(rules)}: "
          f"{time.perf_counter() - began:.0f} s")  # fmt: skip
    if args.sim_rows:
        with open(args.sim_rows, "a") as out:
            out.writelines(json.dumps(row) + "\n" for row in rows)
        with open(args.sim_rows) as saved:
            rows = [json.loads(line) for line in saved]
    print(
        f"\n{args.battles} battles over {args.models} models, {args.rounds} bootstrap rounds; "
        "rule / uniform on the same votes, per seed; lose = share of seeds the rule is worse"
    )
    print(f"{'truth':>8s} {'rule':>11s} {'seeds':>5s} | {'mean width ratio':>16s} {'lose':>5s} | "
          f"{'neighbour ratio':>15s} {'lose':>5s} | {'Kendall rule':>12s} {'uniform':>7s} "
          f"{'lose':>5s}")  # fmt: skip
    for name in dict.fromkeys(r["truth"] for r in rows):
        for rule in dict.fromkeys(r["rule"] for r in rows):
            mine = [r for r in rows if r["truth"] == name and r["rule"] == rule]
            if not mine:
                continue
            c = RuleComparison.from_rows(mine)
            sd = c.ratios.std(ddof=1) if len(mine) > 1 else 0.0
            nsd = c.neighbour_ratios.std(ddof=1) if len(mine) > 1 else 0.0
            print(f"{name:>8s} {rule:>11s} {len(mine):5d} | {c.ratios.mean():8.3f} ± {sd:5.3f} "
                  f"{c.loses:5.2f} | {c.neighbour_ratios.mean():7.3f} ± {nsd:5.3f} "
                  f"{c.neighbours_lose:5.2f} | {c.kendall_rule.mean():12.3f} "
                  f"{c.kendall_uniform.mean():7.3f} {c.ranks_lose:5.2f}")  # fmt: skip
    print("\nthe ceiling: the best pairing with the true strengths known (greedy, Gaussian "
          "approximation) / uniform, summed sd")  # fmt: skip
    for name in dict.fromkeys(r["truth"] for r in rows):
        truth = TRUTHS[name][: args.models]
        models = known_truth_ceiling(truth, args.battles)
        neighbours = known_truth_ceiling(truth, args.battles, "neighbours")
        print(f"{name:>8s}: model ratings {models:.3f}, neighbour differences {neighbours:.3f}")
    ratios = [float(r["width"]) / float(r["width_uniform"]) for r in rows
              if r["rule"] == "information"]  # fmt: skip
    if ratios:
        sd = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
        print(
            f"ratio: {statistics.mean(ratios):.3f} ± {sd:.3f} over {len(ratios)} runs "
            "(simulated adaptive / uniform mean BT interval width, all truths)"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--battles", type=int, default=200)
    parser.add_argument("--models", type=int, default=6)
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--seeds", type=int, default=3, help="how many seeds, from --seed on")
    parser.add_argument("--smoke", action="store_true", help="30 battles over 4 models")
    parser.add_argument("--sim-seeds", default="0:300", help="simulation seeds, first:last")
    parser.add_argument("--sim-rows", help="append the simulation's rows here; table over all")
    parser.add_argument("--sim-only", action="store_true", help="no run through the services")
    parser.add_argument("--rules", default=",".join(SIM_RULES), help="simulated rules")
    parser.add_argument("--rounds", type=int, default=100, help="bootstrap rounds (simulation)")
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(battles=30, models=4, seeds=1, sim_seeds="0:2", rounds=20)
    if args.sim_only:
        simulate(args)
        return 0

    _, bench_url = scratch_urls(BENCH_DB)
    scratch_recreate(BENCH_DB)
    os.environ.update({
        "DATABASE_URL": bench_url, "DEBUG": "1", "LOG_LEVEL": "WARNING",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
        "CACHE_KEY_PREFIX": BENCH_DB,  # fresh ids must not meet another run's cached results
    })  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        from evalhub.outputs.models import ModelEntry

        call_command("migrate", verbosity=0)
        models = [
            ModelEntry.objects.create(team=bench_team(), slug=f"m{i}", name=f"Model {i}",
                                      kind=ModelEntry.Kind.API, base_url="http://127.0.0.1:9/v1",
                                      model_path=f"m{i}")
            for i in range(args.models)
        ]  # fmt: skip
        ratios, starts = [], {"uniform": [], "adaptive": []}
        for seed in range(args.seed, args.seed + args.seeds):
            began = time.perf_counter()
            runs = {name: run(models, adaptive=name == "adaptive", battles=args.battles,
                              seed=seed) for name in ("uniform", "adaptive")}  # fmt: skip
            print(f"\nseed {seed}: {args.battles} battles over {args.models} models per run, "
                  f"{time.perf_counter() - began:.0f} s for both runs")  # fmt: skip
            ratios.append(report(models, runs))
            for name, result in runs.items():
                starts[name] += result["start_ms"]
            print(f"seed {seed}: adaptive / uniform mean interval width {ratios[-1]:.3f}")
        for name, values in starts.items():
            values.sort()
            print(
                f"{name}: conversation_start over all seeds p50 {statistics.median(values):.1f}"
                f" ms, p95 {values[min(len(values) - 1, int(0.95 * len(values)))]:.1f} ms"
            )
        sd = statistics.stdev(ratios) if len(ratios) > 1 else 0.0
        print(
            f"ratio: {statistics.mean(ratios):.3f} ± {sd:.3f} over {len(ratios)} seeds "
            "(adaptive / uniform mean BT interval width; mean ± sd; lower is better)"
        )
        connections.close_all()
    finally:
        scratch_recreate(BENCH_DB, drop_only=True)
    simulate(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
