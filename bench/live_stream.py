"""Live streaming benchmark: 20 concurrent live conversations through EvalHub (gunicorn with
uvicorn workers serving evalhub.asgi, the Procfile's web-live) against the real `vllm serve`
of the tiny model, and the same requests streamed straight from the
same server, in the same run, rounds interleaved. The direct path posts the request and
reads its event stream as EvalHub does (httpx2, plain JSON per event), with the same prompt,
sampling, answer cap and concurrency.

Prints, for each path: tokens/s (completion tokens, as the endpoint counted them, over the
rounds' wall time) and time to first token (p50/p95, from sending the request to the first piece of
text); then `ratio:` ours / direct (goal >= 0.9) and the TTFT EvalHub adds at p95 (goal
< 30 ms).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres .venv/bin/python bench/live_stream.py

`--vllm http://host:port/v1` uses a running `vllm serve` of the tiny model (served as "tiny")
instead of starting one (the test suite's smoke passes its session server).

A scratch database (`evalhub_bench_live_<pid>`, on DATABASE_URL's server) is made and dropped.
REDIS_URL (default redis://127.0.0.1:6379/14) counts the message rate limit."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import string
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_team  # noqa: E402
from bench.scratch import scratch_recreate, scratch_urls  # noqa: E402

BENCH_DB = f"evalhub_bench_live_{os.getpid()}"
PROMPT = "Write a short story about a lighthouse keeper and a storm."
VLLM_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def _wait_http(url: str, popen: subprocess.Popen, timeout: float, what: str) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if popen.poll() is not None:
            raise SystemExit(f"{what} exited; see var/logs/bench-live-*.log")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{what} did not start within {timeout} s")


def _start(argv: list[str], env: dict[str, str], name: str) -> subprocess.Popen:
    (ROOT / "var" / "logs").mkdir(parents=True, exist_ok=True)
    log = open(ROOT / "var" / "logs" / f"bench-live-{name}.log", "ab")
    return subprocess.Popen(argv, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _sessions(study, n: int) -> list[tuple[str, str]]:
    """n fresh participants, consented, each with a live conversation: (cookie, conv token)."""
    from evalhub.live.services import conversation_start, live_session_consent
    from evalhub.rating.services import session_start_crowd

    made = []
    for _ in range(n):
        session = session_start_crowd(study=study, participant_id=secrets.token_hex(8))
        session = live_session_consent(session=session)
        made.append((session.token, conversation_start(session=session).token))
    return made


def _tokens(conversations: list[str]) -> int:
    """Completion tokens of these conversations' turns, from their provenance."""
    from evalhub.live.models import Turn

    turns = Turn.objects.filter(conversation__token__in=conversations, status="done")
    return sum(t.provenance.get("completion_tokens", 0) for t in turns)


PHASES = {
    "body_read": "request body read",
    "checks": "host + CSRF checks done",
    "state_read": "session+history read done",
    "rate_counted": "message rate counted",
    "planned": "session + history read, checks",
    "turn_open": "turn rows written (models started)",
    "headers_sent": "response headers sent",
    "queued": "concurrency gate (own)",
    "first_token": "endpoint call to first token (own)",
    "first_frame": "first text frame written",
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _ours(client, base: str, code: str, cookie: str, conv: str) -> tuple[float, int]:
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    headers = {"X-CSRFToken": csrf, "Cookie": f"ls={cookie}; csrftoken={csrf}"}
    first, pieces = None, 0
    sent = time.perf_counter()
    url = f"{base}/live/{code}/c/{conv}/send/"  # the study's crowd code, never its slug
    async with client.stream("POST", url, data={"text": PROMPT}, headers=headers) as r:
        if r.status_code != 200:
            raise SystemExit(f"EvalHub answered {r.status_code}: {await r.aread()}")
        async for line in r.aiter_lines():
            if line.startswith("event: delta"):
                pieces += 1
                if first is None:
                    first = time.perf_counter() - sent
    return first or float("nan"), pieces


async def _direct(client, vllm: str, model: str, max_tokens: int) -> tuple[float, int]:
    """The same request straight to the endpoint, made and read the way EvalHub makes and
    reads it (httpx2, the `openai` client's HTTP library; each event parsed as plain JSON):
    both paths pay the same per-request and per-token client costs, so the comparison is of
    what EvalHub adds."""
    from evalhub.live.streaming import stream_chunks

    first, tokens = None, 0
    sent = time.perf_counter()
    body = {
        "model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True,
        "stream_options": {"include_usage": True}, "temperature": 0.7, "top_p": 0.9,
        "max_tokens": max_tokens, "seed": secrets.randbelow(2**31), "repetition_penalty": 1.2,
    }  # fmt: skip
    headers = {"Authorization": "Bearer EMPTY"}
    async with client.stream("POST", f"{vllm}/chat/completions", json=body,
                             headers=headers) as response:  # fmt: skip
        async for chunk in stream_chunks(response):
            if chunk.get("usage"):
                tokens = chunk["usage"]["completion_tokens"]
            for choice in chunk.get("choices") or ():
                if (choice.get("delta") or {}).get("content") and first is None:
                    first = time.perf_counter() - sent
    return first or float("nan"), tokens


async def _round(jobs) -> tuple[float, list[float], int]:
    started = time.perf_counter()
    results = await asyncio.gather(*jobs)
    wall = time.perf_counter() - started
    return wall, [r[0] for r in results], sum(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--vllm", help="the /v1 URL of a running vllm serve of the tiny model")
    parser.add_argument(
        "--smoke", action="store_true", help="2 conversations, 1 round, 8 tokens (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(conversations=2, rounds=1, max_tokens=8, workers=1)

    _, bench_url = scratch_urls(BENCH_DB)
    scratch_recreate(BENCH_DB)
    env = {**os.environ, "DATABASE_URL": bench_url, "DEBUG": "0", "SECRET_KEY": "bench-only",
           "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING",
           "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/14")}  # fmt: skip
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from evalhub.devstack import free_port
    from evalhub.live.creation import live_study_create
    from evalhub.outputs.models import ModelEntry
    from generation.tiny_model import build_tiny_model

    call_command("migrate", verbosity=0)
    web_port = free_port()
    processes = [
        _start([sys.executable, "-m", "gunicorn", "evalhub.asgi:application", "-k",
                "uvicorn.workers.UvicornWorker", "--workers", str(args.workers), "--bind",
                f"127.0.0.1:{web_port}"], env, "web"),
    ]  # fmt: skip
    vllm = args.vllm
    if not vllm:
        model_dir = ROOT / "var" / "tiny-model"
        if not (model_dir / "config.json").exists():
            build_tiny_model(model_dir)
        vllm_port = free_port()
        vllm = f"http://127.0.0.1:{vllm_port}/v1"
        processes.append(
            _start([sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model",
                    str(model_dir), "--host", "127.0.0.1", "--port", str(vllm_port),
                    "--served-model-name", "tiny", "tiny-b", "--max-model-len", "2048",
                    "--gpu-memory-utilization", "0.3", "--seed", "0"],
                   {**env, **VLLM_ENV}, "vllm")
        )  # fmt: skip
    try:
        if not args.vllm:
            _wait_http(f"{vllm}/models", processes[1], 600, "vllm serve")
        base = f"http://127.0.0.1:{web_port}"
        _wait_http(f"{base}/healthz", processes[0], 60, "gunicorn")
        model = ModelEntry.objects.create(
            team=bench_team(), slug="tiny", name="tiny", kind=ModelEntry.Kind.API, base_url=vllm,
            model_path="tiny", generation_config={"max_tokens": args.max_tokens},
        )  # fmt: skip
        study = live_study_create(
            team=bench_team(), slug="bench-live", name="bench", mode="conversation",
            models=[model], max_turns=1,
            session_quota=1, messages_per_minute=100, target_per_pair=10**6,
        )  # fmt: skip
        import httpx2

        direct = httpx2.AsyncClient(
            timeout=300, limits=httpx2.Limits(max_connections=None, max_keepalive_connections=64)
        )
        n = args.conversations
        totals = {"ours": [0.0, 0, []], "direct": [0.0, 0, []]}
        measured: list[str] = []

        async def run_all() -> None:
            import httpx

            # One client for all of EvalHub's requests, as the direct path has one.
            limits = httpx.Limits(max_connections=n * 2, max_keepalive_connections=n * 2)
            web = httpx.AsyncClient(timeout=300, limits=limits)
            # Warm-up: both paths once, so neither pays a first connection or compile.
            await _round([_direct(direct, vllm, "tiny", args.max_tokens) for _ in range(n)])
            warm = await asyncio.to_thread(_sessions, study, n)
            await _round([_ours(web, base, study.crowd_code, c, t) for c, t in warm])
            for r in range(args.rounds):
                sessions = await asyncio.to_thread(_sessions, study, n)
                measured.extend(t for _, t in sessions)
                order = ["ours", "direct"] if r % 2 == 0 else ["direct", "ours"]
                for path in order:
                    if path == "ours":
                        jobs = [_ours(web, base, study.crowd_code, c, t) for c, t in sessions]
                    else:
                        jobs = [_direct(direct, vllm, "tiny", args.max_tokens) for _ in range(n)]
                    wall, ttfts, pieces = await _round(jobs)
                    if path == "ours":  # tokens as the endpoint counted them, like direct's
                        pieces = await asyncio.to_thread(_tokens, [t for _, t in sessions])
                    totals[path][0] += wall
                    totals[path][1] += pieces
                    totals[path][2].extend(ttfts)

        asyncio.run(run_all())
        rates = {}
        for path, (wall, pieces, ttfts) in totals.items():
            rates[path] = pieces / wall
            print(f"{path}: {n} concurrent streams x {args.rounds} rounds, {pieces} tokens, "
                  f"{rates[path]:.1f} tokens/s, TTFT p50 {_percentile(ttfts, .5) * 1000:.1f} ms, "
                  f"p95 {_percentile(ttfts, .95) * 1000:.1f} ms")  # fmt: skip
        from evalhub.live.models import Turn

        # The measured rounds' turns only (the warm-up's first requests open pools).
        timings = [t.provenance["timings_ms"] for t in Turn.objects.filter(
            status="done", conversation__token__in=measured)]  # fmt: skip
        server = sorted(t["first_token"] for t in timings)
        print(f"inside EvalHub, endpoint call to first token: p50 "
              f"{_percentile(server, .5):.1f} ms, p95 {_percentile(server, .95):.1f} ms; "
              f"waiting for the model's concurrency gate p95 "
              f"{_percentile(sorted(t['queued'] for t in timings), .95):.1f} ms")  # fmt: skip
        # Where the time to first token goes, per phase (ms from the request's arrival at
        # the ASGI app, except queued and first_token: the endpoint call's own).
        print(f"{'phase (ms)':<34}{'p50':>9}{'p95':>9}")
        for key, what in PHASES.items():
            values = sorted(t[key] for t in timings if key in t)
            if values:
                print(f"{what:<34}{_percentile(values, .5):>9.1f}"
                      f"{_percentile(values, .95):>9.1f}")  # fmt: skip
        added = _percentile(totals["ours"][2], 0.95) - _percentile(totals["direct"][2], 0.95)
        print(f"TTFT added at p95: {added * 1000:.1f} ms (goal < 30 ms)")
        print(json.dumps({"ours_tokens_per_s": round(rates["ours"], 1),
                          "direct_tokens_per_s": round(rates["direct"], 1)}))  # fmt: skip
        print(f"ratio: {rates['ours'] / rates['direct']:.3f} (EvalHub live / direct "
              "from the same vllm serve; goal >= 0.9)")  # fmt: skip
    finally:
        for popen in processes:
            popen.terminate()
        for popen in processes:
            try:
                popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                popen.kill()
        from django.db import connections

        connections.close_all()
        scratch_recreate(BENCH_DB, drop_only=True)


if __name__ == "__main__":
    main()
