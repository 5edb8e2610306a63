"""Generation throughput: our job path against a bare `LLM.chat`, and against transformers.

The same prompts (default 256) and the same sampling (LIMA's top_p 0.9, temperature 0.7,
repetition penalty 1.2, the model's end-of-turn token as a stop, one seed per sample) go
through:

  (a) ours: `generation.services.generation_job_run` on a Job row, i.e. the missing-sample
      query, the warm vLLM engine adapter (one batched submission, results collected as they
      finish) and the chunked saving of outputs with provenance, with progress reports;
  (b) bare vLLM: one `LLM.chat` call on the same engine with the same SamplingParams;
  (c) Hugging Face transformers `generate` (sampling, top_p, temperature,
      repetition_penalty, eos at the end-of-turn), batched with left padding.

Throughput is completion tokens per second of wall time, engine loading excluded (a) and (b)
share one loaded engine; each is run --repeats times, interleaved, and the median is kept.

The database for (a) is a scratch one, `evalhub_bench_generation` on the server of
DATABASE_URL (default postgres://postgres@127.0.0.1:5432), migrated at start and dropped at
the end; the bench needs no Redis. Random tiny weights almost never emit the end-of-turn
token, so nearly every sample runs to --max-tokens: lengths are uniform, which is the easy
case for (b)'s single call.

    .venv/bin/python bench/generation.py [--prompts 256] [--max-tokens 128] [--model DIR]

The last lines are `overhead: X%` = (b) tokens/s / (a) tokens/s - 1 (goal: <= 10%) and
`ratio vllm/transformers: Y` = (a) / (c).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.bench_team import bench_team  # noqa: E402

TOPICS = [
    "make a good cup of coffee", "learn a new language", "train for a marathon",
    "write a cover letter", "explain recursion to a child", "plan a birthday party",
    "keep houseplants alive", "start a vegetable garden", "save money on groceries",
    "prepare for a job interview", "fix a leaking tap", "choose a first programming language",
]  # fmt: skip


def prompt_texts(n: int) -> list[str]:
    return [
        f"Question {i}: how should I {TOPICS[i % len(TOPICS)]}? Please answer in detail."
        for i in range(n)
    ]


DB_NAME = "evalhub_bench_generation"


def _admin(sql: str) -> None:
    import psycopg

    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    with psycopg.connect(base._replace(path="/postgres").geturl(), autocommit=True) as conn:
        conn.execute(sql)


@contextmanager
def scratch_database() -> Iterator[None]:
    """Django set up on a fresh, migrated scratch database, dropped afterwards."""
    base = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
    _admin(f"CREATE DATABASE {DB_NAME}")
    os.environ["DATABASE_URL"] = base._replace(path=f"/{DB_NAME}").geturl()
    try:
        setup_django()
        yield
    finally:
        from django.db import connections

        connections.close_all()
        _admin(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


def setup_django() -> None:
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "evalhub.settings")
    os.environ.setdefault("VLLM_CPU_KVCACHE_SPACE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def run_ours(model_entry, prompt_set, sampling_overrides: dict, round_: int) -> tuple[float, int]:
    """(seconds, completion tokens) of one job from a clean slate of outputs."""
    from evalhub.jobs.models import Job
    from evalhub.outputs.models import Output
    from generation.services import generation_job_run

    Output.objects.filter(model=model_entry).delete()
    job = Job.objects.create(
        team=model_entry.team,
        kind="generation",
        status=Job.Status.RUNNING,
        params={
            "model": model_entry.slug,
            "prompt_set": prompt_set.slug,
            "samples": 1,
            "overrides": {**sampling_overrides, "seed": round_},
        },
    )
    started = time.perf_counter()
    result = generation_job_run(job)
    seconds = time.perf_counter() - started
    assert result["generated"] == prompt_set.prompts.count(), result
    tokens = sum(
        o["completion_tokens"]
        for o in Output.objects.filter(model=model_entry).values_list("provenance", flat=True)
    )
    return seconds, tokens


def run_bare(engine, requests, sampling) -> tuple[float, int]:
    params = [engine.sampling_params(sampling, r.seed) for r in requests]
    started = time.perf_counter()
    outputs = engine.llm.chat([r.messages for r in requests], params, use_tqdm=False)
    seconds = time.perf_counter() - started
    return seconds, sum(len(o.outputs[0].token_ids) for o in outputs)


def run_transformers(model_dir: str, texts: list[str], sampling, batch: int) -> tuple[float, int]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, GenerationConfig

    from generation.engines.vllm_engine import end_of_turn_ids

    tokenizer = AutoTokenizer.from_pretrained(model_dir, padding_side="left")
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.bfloat16).eval()
    stop_ids = end_of_turn_ids(model_dir, tokenizer)
    config = GenerationConfig(
        do_sample=True,
        top_p=sampling.top_p,
        temperature=sampling.temperature,
        repetition_penalty=sampling.repetition_penalty,
        max_new_tokens=sampling.max_tokens,
        eos_token_id=stop_ids,
        pad_token_id=tokenizer.pad_token_id,
    )
    rendered = [
        tokenizer.apply_chat_template(
            [{"role": "user", "content": t}], tokenize=False, add_generation_prompt=True
        )
        for t in texts
    ]
    torch.manual_seed(sampling.seed)
    tokens = 0
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(rendered), batch):
            enc = tokenizer(rendered[i : i + batch], return_tensors="pt", padding=True,
                            add_special_tokens=False)  # fmt: skip
            out = model.generate(**enc, generation_config=config)
            new = out[:, enc["input_ids"].shape[1] :]
            for row in new.tolist():
                # Count up to and including the first stop token, like vLLM does.
                stop_at = next((j for j, t in enumerate(row) if t in stop_ids), len(row) - 1)
                tokens += stop_at + 1
    return time.perf_counter() - started, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prompts", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--hf-batch", type=int, default=64)
    parser.add_argument("--model", default=str(ROOT / "var" / "tiny-model"))
    parser.add_argument(
        "--smoke", action="store_true", help="4 prompts x 8 tokens, one repeat (seconds)"
    )
    args = parser.parse_args()
    if args.smoke:  # the size tests/bench/test_smoke.py runs
        vars(args).update(prompts=4, max_tokens=8, repeats=1, hf_batch=4)

    with scratch_database():
        from evalhub.outputs.models import ModelEntry
        from evalhub.prompts.models import Prompt, PromptSet
        from generation.engines import GenerationRequest
        from generation.engines.vllm_engine import warm_vllm_engine
        from generation.sampling import sample_seed, sampling_from

        if not (Path(args.model) / "config.json").exists():
            from generation.tiny_model import build_tiny_model

            build_tiny_model(Path(args.model))
        texts = prompt_texts(args.prompts)
        prompt_set = PromptSet.objects.create(team=bench_team(), slug="bench", name="bench")
        Prompt.objects.bulk_create(
            Prompt(prompt_set=prompt_set, external_id=f"b{i}", text=t, position=i)
            for i, t in enumerate(texts)
        )
        model_entry = ModelEntry.objects.create(
            team=bench_team(), slug="bench-model", kind=ModelEntry.Kind.LOCAL, model_path=args.model
        )
        overrides = {"max_tokens": args.max_tokens}

        loading = time.perf_counter()
        engine = warm_vllm_engine(model_path=args.model)
        print(f"vLLM {engine.version} on {engine.platform}: engine loaded in "
              f"{time.perf_counter() - loading:.1f} s; {args.prompts} prompts, "
              f"max_tokens {args.max_tokens}, LIMA sampling")  # fmt: skip

        ours: list[tuple[float, int]] = []
        bare: list[tuple[float, int]] = []
        run_bare(engine, [], sampling_from())  # no-op; the first job below warms up
        run_ours(model_entry, prompt_set, overrides, round_=99)  # warm-up, not counted
        prompts = list(prompt_set.prompts.order_by("position"))
        for round_ in range(args.repeats):
            sampling = sampling_from(("bench", {**overrides, "seed": round_}))
            requests = [
                GenerationRequest(
                    key=(p.pk, 0),
                    messages=p.messages(),
                    seed=sample_seed(round_, f"bench/{p.external_id}", 0),
                )
                for p in prompts
            ]
            bare.append(run_bare(engine, requests, sampling))
            ours.append(run_ours(model_entry, prompt_set, overrides, round_))
            print(f"  round {round_}: ours {ours[-1][1] / ours[-1][0]:.0f} tok/s, "
                  f"bare {bare[-1][1] / bare[-1][0]:.0f} tok/s")  # fmt: skip
        engine.close()

        hf = run_transformers(
            args.model, texts, sampling_from(("bench", overrides)), batch=args.hf_batch
        )

    def rate(runs: list[tuple[float, int]]) -> float:
        return statistics.median(tokens / seconds for seconds, tokens in runs)

    ours_rate, bare_rate, hf_rate = rate(ours), rate(bare), hf[1] / hf[0]
    print(f"(a) ours, job path (adapter + chunked saving): {ours_rate:10.0f} tokens/s")
    print(f"(b) bare LLM.chat, same engine and params:     {bare_rate:10.0f} tokens/s")
    print(f"(c) transformers generate, batch {args.hf_batch:<4}:         {hf_rate:10.0f} tokens/s")
    print(f"ratio ours/bare: {ours_rate / bare_rate:.3f}")
    print(f"overhead: {(bare_rate / ours_rate - 1) * 100:.1f}% (goal <= 10%)")
    print(f"ratio vllm/transformers: {ours_rate / hf_rate:.2f}")


if __name__ == "__main__":
    main()
