"""Submit 50,000 outputs in one request to a real server and report its speed and memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/api_bulk.py
        [--smoke]

A scratch database (`evalhub_bench_api_bulk_<pid>`, on the server of DATABASE_URL) is made
and dropped.
gunicorn (one sync worker, DEBUG off) serves the app on loopback; the body is AlpacaEval's
model_outputs.json shape (instruction / output / generator), 10 models x 5,000 prompts.

Prints rows per second and the worker's peak RSS (VmHWM) against the goal (>= 5,000 rows/s,
< 500 MB), and, measured in the same run, the named peer: the same rows through
outputs_import in-process (no HTTP, no JSON), so the ratio is what the API layer costs.

The browser path is measured beside it: the same 50,000 rows (new generator names) as a
file through the workspace's upload form (multipart, a session logged in through the login
form as a browser does, CSRF), its preview,
then the confirmed import job on a real Celery worker (solo pool). Its rate is rows over
preview seconds plus the job's run time; its peak RSS is the larger of the web worker's
and the Celery worker's.
It also prints the markdown rendering time per output, which outputs_import spends once
per row (evalhub.outputs.services.output_fields).

Chatbot Arena battles: 100,000 battles in the chatbot_arena_conversations shape (24 models,
~700-character answers, half with conv_metadata) posted to /api/v1/arena-battles/ in
requests of ARENA_CHUNK rows into one import; rows per second over all the requests and
the worker's peak RSS, against the same goal. (An Arena row holds two answers and their
turns: a 20,000-row request peaked at ~455 MB here, so the bench sends 10,000 per request.)

`--smoke` runs every part at a small size (a check that it works, not a figure);
`--arena-only` runs only the Arena part."""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_member, bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

SMOKE = "--smoke" in sys.argv
ARENA_ONLY = "--arena-only" in sys.argv
N_PROMPTS, N_MODELS = (200, 10) if SMOKE else (5_000, 10)
N_BATTLES, N_ARENA_MODELS = (2_000, 24) if SMOKE else (100_000, 24)
ARENA_CHUNK = 10_000
GOAL_ROWS_PER_S, GOAL_PEAK_MB = 5_000, 500
BENCH_DB = f"evalhub_bench_api_bulk_{os.getpid()}"  # unique: other benches may run at once


def _answer(i: int, rng: random.Random) -> str:
    """A markdown answer of about 700 characters, like an instruction-tuned model's."""
    words = "model answer helpful careful example detail reason step result note".split()
    prose = " ".join(rng.choice(words) for _ in range(60))
    return (
        f"Here is what I would do ({i}):\n\n1. **First**, read the question.\n"
        f"2. Then check `item_{i}` against [the docs](https://example.org/{i}).\n\n"
        f"{prose}.\n\n```python\nprint({i})\n```\n\n> {prose[:120]}\n"
    )


def _rows(rng: random.Random, suffix: str = "") -> list[dict[str, str]]:
    return [
        {"instruction": f"Prompt number {p}: explain topic {p}?",
         "output": _answer(p * N_MODELS + m, rng), "generator": f"Model {m}{suffix}"}
        for m in range(N_MODELS)
        for p in range(N_PROMPTS)
    ]  # fmt: skip


def _arena_rows(rng: random.Random) -> list[dict]:
    """Battles in the chatbot_arena_conversations shape; every other one has conv_metadata."""
    rows = []
    for i in range(N_BATTLES):
        a = rng.randrange(N_ARENA_MODELS)
        b = (a + rng.randrange(1, N_ARENA_MODELS)) % N_ARENA_MODELS
        question = f"Battle question {i}: explain topic {i % 977}?"
        row = {
            "question_id": f"b{i:07d}", "model_a": f"arena-model-{a:02d}",
            "model_b": f"arena-model-{b:02d}",
            "winner": rng.choice(["model_a", "model_b", "tie", "tie (bothbad)"]),
            "judge": f"arena_user_{rng.randrange(5000)}",
            "conversation_a": [{"role": "user", "content": question},
                               {"role": "assistant", "content": _answer(2 * i, rng)}],
            "conversation_b": [{"role": "user", "content": question},
                               {"role": "assistant", "content": _answer(2 * i + 1, rng)}],
            "turn": 1, "anony": True, "language": "English", "tstamp": 1.7e9 + i,
        }  # fmt: skip
        if i % 2:
            row["conv_metadata"] = {
                f"{k}_{side}": v
                for side in "ab"
                for k, v in (("sum_assistant", 0), ("header_count", {"h1": 0}),
                             ("list_count", {"ordered": 2}), ("bold_count", {"**": 1}))
            }  # fmt: skip
            for side in "ab":
                row["conv_metadata"][f"sum_assistant_{side}_tokens"] = 160
                del row["conv_metadata"][f"sum_assistant_{side}"]
        rows.append(row)
    return rows


def _arena_import(env: dict[str, str], token: str) -> tuple[float, float, int]:
    """(seconds, peak RSS MB, battles created) for N_BATTLES battles over the API."""
    import httpx

    from evalhub.devstack import free_port

    rows = _arena_rows(random.Random(1))
    chunk = ARENA_CHUNK
    bodies = [
        "\n".join(json.dumps(r) for r in rows[i : i + chunk]).encode()
        for i in range(0, len(rows), chunk)
    ]
    del rows
    server, worker_pid = _start_gunicorn(env, port := free_port())
    created = 0
    try:
        started = time.perf_counter()
        for body in bodies:
            response = httpx.post(
                f"http://127.0.0.1:{port}/api/v1/arena-battles/"
                "?name=bench&imported_from=bench-battles.jsonl",
                content=body, timeout=900,
                headers={"Authorization": f"Token {token}",
                         "Content-Type": "application/x-ndjson"},
            )  # fmt: skip
            assert response.status_code == 201, response.text[-3000:]
            created += response.json()["created"]
        seconds = time.perf_counter() - started
        peak_mb = _peak_rss_mb(worker_pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return seconds, peak_mb, created


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


def _start_gunicorn(env: dict[str, str], port: int) -> tuple[subprocess.Popen, int]:
    import httpx
    import psutil

    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "evalhub.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "900", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code < 500:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    else:
        server.kill()
        raise RuntimeError("gunicorn did not answer")
    (worker,) = psutil.Process(server.pid).children()
    return server, worker.pid


def _start_celery(env: dict[str, str]) -> subprocess.Popen:
    from evalhub.celery import app

    name = f"bench-{os.getpid()}@bench"
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "evalhub", "worker", "-P", "solo", "-Q",
         "default", "-n", name, "-l", "warning", "--without-gossip", "--without-mingle"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if app.control.ping(destination=[name], timeout=0.5):
            return worker
    worker.kill()
    raise RuntimeError("the celery worker did not answer")


def _log_in(web, username: str, password: str) -> None:
    """Log in through the login form, as a browser does (every authentication backend and
    django-axes see a real request)."""
    import re

    form = web.get("/accounts/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
    done = web.post(
        "/accounts/login/",
        data={"csrfmiddlewaretoken": csrf, "username": username, "password": password},
        headers={"Referer": f"{web.base_url}accounts/login/"},
    )
    assert done.status_code == 302 and "sessionid" in web.cookies, done.text[-2000:]


def _browser_upload(
    port: int, username: str, password: str, body: bytes
) -> tuple[float, float, int, object]:
    """The workspace upload form, as a browser posts it: (preview seconds, job seconds,
    rows previewed, job)."""
    import re

    import httpx

    from evalhub.jobs.models import Job

    base = f"http://127.0.0.1:{port}"
    with httpx.Client(base_url=base, timeout=900) as web:
        _log_in(web, username, password)
        form = web.get("/uploads/")
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        started = time.perf_counter()
        preview = web.post(
            "/uploads/",
            data={"csrfmiddlewaretoken": csrf, "kind": "outputs", "prompt_set": "bench"},
            files={"file": ("model_outputs.json", body, "application/json")},
            headers={"Referer": f"{base}/uploads/"},
        )
        preview_seconds = time.perf_counter() - started
        token = re.search(r"/uploads/([0-9a-f]{32})/import/", preview.text)
        assert token, preview.text[-3000:]
        rows = int(re.search(r'id="preview-rows">(\d+)<', preview.text).group(1))
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', preview.text).group(1)
        confirmed = web.post(
            f"/uploads/{token.group(1)}/import/", data={"csrfmiddlewaretoken": csrf},
            headers={"Referer": f"{base}/uploads/"},
        )  # fmt: skip
        assert confirmed.status_code == 302, confirmed.text[-2000:]
    job = Job.objects.get(pk=int(confirmed.headers["Location"].rstrip("/").split("/")[-1]))
    deadline = time.monotonic() + 900
    while not job.is_finished and time.monotonic() < deadline:
        time.sleep(0.2)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    return preview_seconds, (job.finished_at - job.started_at).total_seconds(), rows, job


def main() -> None:
    import argparse

    global N_PROMPTS, N_MODELS
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true", help="2 models x 200 prompts")
    parser.add_argument("--arena-only", action="store_true", help="only the Arena battles")
    if parser.parse_args().smoke:
        N_PROMPTS, N_MODELS = 200, 2
    _, bench_url = scratch_urls(BENCH_DB)
    scratch_recreate(BENCH_DB)
    # Plain HTTP on loopback: no HTTPS redirect, no secure-only cookies.
    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "0", "SECRET_KEY": "bench-only",
           "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
           "SECURE_SSL_REDIRECT": "0", "SECURE_COOKIES": "0"}  # fmt: skip
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django

    django.setup()
    import httpx
    from django.core.management import call_command

    from evalhub.accounts.services import api_token_create, user_create
    from evalhub.devstack import free_port
    from evalhub.outputs.services import output_fields, outputs_import
    from evalhub.prompts.services import prompts_import

    call_command("migrate", verbosity=0)
    password = secrets.token_hex(16)
    user = user_create(username="bench", password=password, role="researcher")
    token = api_token_create(user=bench_member(user), team=bench_team())[1]
    prompt_rows = [
        (p + 1, {"id": f"p{p}", "text": f"Prompt number {p}: explain topic {p}?"})
        for p in range(N_PROMPTS)
    ]
    prompt_set = prompts_import(team=bench_team(), slug="bench", rows=prompt_rows).prompt_set
    if ARENA_ONLY:
        _report_arena(env, token)
        scratch_recreate(BENCH_DB, drop_only=True)
        return

    rng = random.Random(0)
    body = json.dumps(_rows(rng)).encode()
    server, worker_pid = _start_gunicorn(env, port := free_port())
    try:
        rss_before = _peak_rss_mb(worker_pid)
        started = time.perf_counter()
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/v1/prompt-sets/bench/outputs/",
            content=body,
            headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
            timeout=900,
        )
        api_seconds = time.perf_counter() - started
        peak_mb = _peak_rss_mb(worker_pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert response.headers.get("content-type") == "application/json", response.text[-3000:]
    result = response.json()
    assert response.status_code == 201 and result["created"] == N_PROMPTS * N_MODELS, result

    # The browser path: the same rows under new model names, through the upload form.
    upload_body = json.dumps(_rows(random.Random(0), suffix=" upload")).encode()
    celery = _start_celery(env)
    server, worker_pid = _start_gunicorn(env, port := free_port())
    try:
        preview_s, job_s, previewed, job = _browser_upload(
            port, user.username, password, upload_body
        )
        upload_peak_mb = max(_peak_rss_mb(worker_pid), _peak_rss_mb(celery.pid))
    finally:
        server.terminate()
        server.wait(timeout=30)
        celery.terminate()
        celery.wait(timeout=30)
    assert previewed == N_PROMPTS * N_MODELS and job.result["created"] == previewed, job.result

    # The peer: the same service in-process on the same data, new model names.
    peer_rows = list(enumerate(_rows(random.Random(0), suffix=" peer"), start=1))
    started = time.perf_counter()
    peer = outputs_import(prompt_set=prompt_set, rows=peer_rows)
    peer_seconds = time.perf_counter() - started
    assert peer.created == N_PROMPTS * N_MODELS

    sample = [row["output"] for _, row in peer_rows[:2000]]
    started = time.perf_counter()
    for text in sample:
        output_fields(text)
    render_us = (time.perf_counter() - started) / len(sample) * 1e6

    rows = N_PROMPTS * N_MODELS
    api_rate, peer_rate = rows / api_seconds, rows / peer_seconds
    print(f"body: {rows} rows, {len(body) / 1e6:.1f} MB (AlpacaEval model_outputs.json shape)")
    print(f"API (gunicorn, 1 worker): {api_seconds:.1f} s = {api_rate:,.0f} rows/s "
          f"(goal >= {GOAL_ROWS_PER_S:,}: {api_rate / GOAL_ROWS_PER_S:.2f}x of goal)")  # fmt: skip
    print(f"server peak RSS: {peak_mb:.0f} MB (worker idle before: {rss_before:.0f} MB; "
          f"goal < {GOAL_PEAK_MB} MB)")  # fmt: skip
    upload_rate = rows / (preview_s + job_s)
    print(f"browser upload (form + preview {preview_s:.1f} s, import job {job_s:.1f} s): "
          f"{upload_rate:,.0f} rows/s (goal >= {GOAL_ROWS_PER_S:,}: "
          f"{upload_rate / GOAL_ROWS_PER_S:.2f}x of goal); peak RSS {upload_peak_mb:.0f} MB "
          f"(goal < {GOAL_PEAK_MB} MB)")  # fmt: skip
    print(f"ratio: browser upload / API = {upload_rate / api_rate:.2f}")
    print(f"peer, outputs_import in-process: {peer_seconds:.1f} s = {peer_rate:,.0f} rows/s; "
          f"API / peer = {api_rate / peer_rate:.2f}")  # fmt: skip
    print(f"markdown rendering (output_fields): {render_us:.0f} us per output = "
          f"{render_us * rows / 1e6:.1f} s of the {api_seconds:.1f} s "
          f"({render_us * rows / 1e6 / api_seconds:.0%})")  # fmt: skip
    _report_arena(env, token)
    from django.db import connections

    connections.close_all()
    scratch_recreate(BENCH_DB, drop_only=True)


def _report_arena(env: dict[str, str], token: str) -> None:
    seconds, peak_mb, created = _arena_import(env, token)
    assert created == N_BATTLES, created
    rate = N_BATTLES / seconds
    print(f"Arena battles (API, chatbot_arena_conversations, {N_ARENA_MODELS} models): "
          f"{N_BATTLES:,} battles in {seconds:.1f} s = {rate:,.0f} rows/s (goal >= "
          f"{GOAL_ROWS_PER_S:,}: {rate / GOAL_ROWS_PER_S:.2f}x of goal); server peak RSS "
          f"{peak_mb:.0f} MB (goal < {GOAL_PEAK_MB} MB)")  # fmt: skip
    from django.db import connections

    connections.close_all()


if __name__ == "__main__":
    main()
