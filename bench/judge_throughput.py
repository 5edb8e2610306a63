"""Judge throughput: 1,000 pairwise judgments against a local OpenAI-compatible endpoint with
a fixed 500 ms latency, our judge run versus AlpacaEval's default annotator, in the same run.

    .venv/bin/python bench/judge_throughput.py [--n 1000] [--latency 0.5]

- The endpoint is a small asyncio HTTP/1.1 server in its own process (a stand-in for any API;
  it answers every chat completion after `--latency` seconds and counts request bodies, so a
  request sent twice shows up as a duplicate).
- Ours: `generation.judging.services.judge_job_run` on a study of n/2 items x 2 orders, in
  this process, with Postgres writes, the Redis limiter in the path and guided choice. The
  database is `evalhub_bench_judge` on DATABASE_URL's server (made afresh and migrated here).
- AlpacaEval: `alpaca_eval.annotators.PairwiseAnnotator` with its default config
  (weighted_alpaca_eval_gpt4_turbo, OpenAI decoder, OPENAI_MAX_CONCURRENCY default 5), run
  in bench/.venv-alpaca-eval (created here on first use: `python -m venv` plus
  `pip install alpaca-eval==0.6.6`).
- Ours runs with 200 requests in flight (the judge's `concurrency` param), the figure the
  issue's bare-client reference used; AlpacaEval runs with its own default.

- Ours again in weighted mode (one verdict token with top_logprobs; the endpoint answers
  "A"/"B" with logprobs to our weighted prompt, "m"/"M" to AlpacaEval's).

Prints judgments/s for each, the duplicate call count of each, the ratio of each of our modes
to AlpacaEval, and `ratio: X` last (the slower of our two modes).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import logging
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.alpaca_venv import ALPACA_PYTHON, ensure_alpaca_venv  # noqa: E402
from bench.bench_team import bench_team  # noqa: E402


# --- the fixed-latency endpoint ----------------------------------------------------------
class Endpoint:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.bodies: dict[str, int] = {}

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.split(b"\r\n")
                path = lines[0].split(b" ")[1].decode()
                length = 0
                for line in lines[1:]:
                    if line[:15].lower() == b"content-length:":
                        length = int(line[15:])
                body = await reader.readexactly(length) if length else b""
                if path.startswith("/stats"):
                    total = sum(self.bodies.values())
                    stats = {"calls": total, "duplicates": total - len(self.bodies)}
                    if "reset" in path:
                        self.bodies.clear()
                    self.respond(writer, json.dumps(stats).encode())
                    continue
                digest = hashlib.sha256(body).hexdigest()
                self.bodies[digest] = self.bodies.get(digest, 0) + 1
                await asyncio.sleep(self.latency)
                self.respond(writer, self.completion(json.loads(body), digest))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @staticmethod
    def respond(writer: asyncio.StreamWriter, body: bytes) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: keep-alive\r\n"
            b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )

    @staticmethod
    def completion(request: dict, digest: str) -> bytes:
        choices = (request.get("structured_outputs") or {}).get("choice")
        # Guided choice: answer one allowed option. Otherwise answer like AlpacaEval's
        # gpt-4-turbo classifier: one token, "m" or "M", with top logprobs; our weighted
        # judge asks for "A" or "B" (its prompt ends with WEIGHTED_SUFFIX's wording).
        ours_weighted = "Reply with one letter only" in json.dumps(request.get("messages"))
        letters = ("A", "B") if ours_weighted else ("m", "M")
        content = choices[int(digest[:4], 16) % len(choices)] if choices else letters[0]
        top = [
            {"token": letters[0], "bytes": list(letters[0].encode()), "logprob": -0.4},
            {"token": letters[1], "bytes": list(letters[1].encode()), "logprob": -1.1},
        ]
        logprobs = {"content": [{**top[0], "top_logprobs": top}]} if not choices else None
        return json.dumps(
            {
                "id": "chatcmpl-" + digest[:12],
                "object": "chat.completion",
                "created": 0,
                "model": request.get("model", "judge"),
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "logprobs": logprobs,
                        "message": {"role": "assistant", "content": content},
                    }
                ],
                "usage": {"prompt_tokens": 300, "completion_tokens": 8, "total_tokens": 308},
            }
        ).encode()


def serve(port: int, latency: float) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> None:
        endpoint = Endpoint(latency)
        server = await asyncio.start_server(endpoint.serve, "127.0.0.1", port, backlog=2048)
        print("ready", flush=True)
        await server.serve_forever()

    asyncio.run(main())


def endpoint_stats(base: str, *, reset: bool = False) -> dict:
    with urllib.request.urlopen(f"{base}/stats{'?reset' if reset else ''}", timeout=10) as r:  # noqa: S310 - our own http:// endpoint
        return json.loads(r.read())


# --- AlpacaEval (runs inside its own venv) -------------------------------------------------
def alpaca(n: int, salt: str) -> None:
    logging.disable(logging.WARNING)
    from alpaca_eval.annotators import PairwiseAnnotator

    pairs = [
        {"instruction": f"Question {i} ({salt}): how do I brew coffee?",
         "output_1": f"Answer one to {i}: grind fresh beans.",
         "output_2": f"Answer two to {i}: use instant coffee."}
        for i in range(n)
    ]  # fmt: skip
    annotator = PairwiseAnnotator(caching_path=None)  # the default annotators_config
    started = time.perf_counter()
    annotated = annotator.annotate_pairs(pairs)
    seconds = time.perf_counter() - started
    done = sum(1 for a in annotated if a.get("preference") is not None)
    print(json.dumps({"judgments": done, "seconds": seconds}))


def run_alpaca(base: str, n: int, salt: str) -> dict:
    env = {
        **os.environ,
        "OPENAI_API_BASE": f"{base}/v1",
        "OPENAI_API_KEY": "bench",
        "OPENAI_CLIENT_CONFIG_PATH": "/nonexistent",  # fall back to the env key and base
        "HF_HUB_OFFLINE": "1",
    }
    out = subprocess.run(
        [str(ALPACA_PYTHON), __file__, "alpaca", "--n", str(n), "--salt", salt],
        env=env, capture_output=True, text=True, check=False, cwd=ROOT,
    )  # fmt: skip
    if out.returncode != 0:
        raise SystemExit(f"alpaca-eval run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# --- ours ----------------------------------------------------------------------------------
def bench_database_url() -> str:
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/evalhub")
    name = os.environ.get("BENCH_JUDGE_DB", "evalhub_bench_judge")  # one per concurrent run
    return base.rsplit("/", 1)[0] + "/" + name


def prepare_django() -> None:
    import psycopg

    url = bench_database_url()
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://"), autocommit=True) as c:
        name = url.rsplit("/", 1)[1]
        # A fresh scratch database each run: one left by an older schema cannot be migrated.
        c.execute(f'drop database if exists "{name}" with (force)')
        c.execute(f'create database "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # One INFO line per HTTP request would be a large share of the client's CPU here.
    logging.getLogger("httpx2").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def run_ours(base: str, n: int, salt: str, *, verdict_mode: str = "guided_choice") -> dict:
    from evalhub.jobs.models import Job
    from evalhub.outputs.models import ModelEntry, Output
    from evalhub.prompts.models import Prompt, PromptSet
    from evalhub.studies.models import Item, Judge, Judgment, Study
    from generation.judging.services import judge_job_run, judge_register

    prompt_set = PromptSet.objects.create(team=bench_team(), slug=f"bench-{salt}", name="bench")
    target = ModelEntry.objects.create(team=bench_team(), slug=f"bench-t-{salt}", name="t")
    baseline = ModelEntry.objects.create(team=bench_team(), slug=f"bench-b-{salt}", name="b")
    study = Study.objects.create(
        team=bench_team(),
        slug=f"bench-{salt}",
        name="bench",
        prompt_set=prompt_set,
        target_model=target,
    )
    items = n // 2  # both orders of each item
    prompts = Prompt.objects.bulk_create(
        Prompt(prompt_set=prompt_set, external_id=str(i), position=i,
               text=f"Question {i} ({salt}): how do I brew coffee?")
        for i in range(items)
    )  # fmt: skip
    outs_t = Output.objects.bulk_create(
        Output(prompt=p, model=target, text=f"Answer one to {i}: grind fresh beans.")
        for i, p in enumerate(prompts)
    )
    outs_b = Output.objects.bulk_create(
        Output(prompt=p, model=baseline, text=f"Answer two to {i}: use instant coffee.")
        for i, p in enumerate(prompts)
    )
    Item.objects.bulk_create(
        Item(study=study, prompt=p, target_output=t, baseline_output=b)
        for p, t, b in zip(prompts, outs_t, outs_b, strict=True)
    )
    judge = judge_register(
        team=bench_team(),
        slug=f"bench-{salt}", name="bench", model="judge", base_url=f"{base}/v1",
        template=Judge.Template.LIMA_PAIRWISE, verdict_mode=verdict_mode,
        # Limits far above what we reach, so the shared Redis limiter is in the path.
        params={"concurrency": 200, "rpm": 1_000_000, "tpm": 1_000_000_000, "timeout_s": 30},
    )  # fmt: skip
    job = Job.objects.create(
        kind="judge", status="running", queue="judge",
        params={"judge_id": judge.pk, "study_id": study.pk, "budget_usd": None},
    )  # fmt: skip
    started = time.perf_counter()
    result = judge_job_run(job)
    seconds = time.perf_counter() - started
    ok = Judgment.objects.filter(judge=judge, parse_state="ok").count()
    with_p = Judgment.objects.filter(judge=judge, preference__isnull=False).count()
    return {"judgments": ok, "with_preference": with_p, "seconds": seconds, "result": result}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", nargs="?", default="bench", choices=["bench", "serve", "alpaca"])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--salt", default="")
    parser.add_argument("--smoke", action="store_true", help="16 judgments at 50 ms")
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(n=16, latency=0.05)
    if args.mode == "serve":
        return serve(args.port, args.latency)
    if args.mode == "alpaca":
        return alpaca(args.n, args.salt)

    ensure_alpaca_venv()
    from evalhub.devstack import free_port

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, __file__, "serve", "--port", str(port), "--latency", str(args.latency)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert server.stdout is not None and server.stdout.readline().strip() == "ready"
        salt = f"{int(time.time())}"
        prepare_django()
        print(f"endpoint: fixed {args.latency * 1000:.0f} ms latency; {args.n} pairwise judgments")

        endpoint_stats(base, reset=True)
        ours = run_ours(base, args.n, salt)
        ours_stats = endpoint_stats(base, reset=True)
        ours_rate = ours["judgments"] / ours["seconds"]
        print(
            f"evalhub judge run: {ours['judgments']} judgments in {ours['seconds']:.2f} s = "
            f"{ours_rate:.1f} judgments/s; calls {ours_stats['calls']}, "
            f"duplicate calls {ours_stats['duplicates']}"
        )
        weighted = run_ours(base, args.n, f"{salt}w", verdict_mode="weighted")
        weighted_stats = endpoint_stats(base, reset=True)
        weighted_rate = weighted["judgments"] / weighted["seconds"]
        print(
            f"evalhub weighted judge run: {weighted['judgments']} judgments "
            f"({weighted['with_preference']} with P(target better)) in "
            f"{weighted['seconds']:.2f} s = {weighted_rate:.1f} judgments/s; calls "
            f"{weighted_stats['calls']}, duplicate calls {weighted_stats['duplicates']}"
        )
        alp = run_alpaca(base, args.n, salt)
        alp_stats = endpoint_stats(base, reset=True)
        alp_rate = alp["judgments"] / alp["seconds"]
        print(
            f"alpaca-eval 0.6.6 default annotator: {alp['judgments']} judgments in "
            f"{alp['seconds']:.2f} s = {alp_rate:.1f} judgments/s; calls {alp_stats['calls']}, "
            f"duplicate calls {alp_stats['duplicates']}"
        )
        print(f"duplicate calls: {ours_stats['duplicates'] + weighted_stats['duplicates']}")
        print(f"ratio (guided choice): {ours_rate / alp_rate:.1f}")
        print(f"ratio (weighted): {weighted_rate / alp_rate:.1f}")
        print(f"ratio: {min(ours_rate, weighted_rate) / alp_rate:.1f}")
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
