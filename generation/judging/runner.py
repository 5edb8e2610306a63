"""The async part of a judge run: ask every distinct request once, parse, re-ask unparseable
answers at most `max_reasks` times, and hand each outcome to a callback as soon as it is known.

No database here: the caller (services) turns outcomes into rows in its own thread."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from generation.judging.config import JudgeConfig
from generation.judging.ratelimit import Limits
from generation.judging.transport import Attempt, RetryPolicy, call_with_retries, judging_loop
from generation.judging.verdicts import ParsedAnswer, parse_answer, request_extras

OK, FAILED, ERROR = "ok", "failed", "error"  # Judgment.ParseState values


@dataclass(frozen=True)
class Price:
    """USD per million tokens in and out."""

    per_mtok_in: Decimal = Decimal(0)
    per_mtok_out: Decimal = Decimal(0)

    def cost(self, tokens_in: int, tokens_out: int) -> Decimal:
        usd = (tokens_in * self.per_mtok_in + tokens_out * self.per_mtok_out) / Decimal(10**6)
        return usd.quantize(Decimal("0.000001"))


@dataclass(frozen=True)
class JudgeRequest:
    """One distinct thing to ask: `key` is its content address (cache key)."""

    key: str
    prompt_text: str
    est_tokens_in: int


@dataclass
class RequestOutcome:
    key: str
    state: str
    answers: list[ParsedAnswer] = field(default_factory=list)
    raw_response: str = ""
    error: str = ""
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def tokens_in(self) -> int:
        return sum(a.tokens_in for a in self.attempts)

    @property
    def tokens_out(self) -> int:
        return sum(a.tokens_out for a in self.attempts)


def estimate_tokens_in(prompt_text: str) -> int:
    """A cheap upper-ish estimate: ~4 characters per token plus the chat template's wrapping."""
    return len(prompt_text) // 4 + 16


def estimate_tokens_out(config: JudgeConfig) -> int:
    return config.sampling["max_tokens"] * config.samples


async def run_requests(
    *,
    config: JudgeConfig,
    requests: Iterable[JudgeRequest],
    deliver: Callable[[RequestOutcome], None],
    price: Price,
    budget_usd: Decimal | None = None,
) -> None:
    """Run `requests` with `config.ops['concurrency']` in flight; call `deliver` once per
    request, in completion order. With a budget, a request that could push the spend past
    it is not sent and comes back as an error."""
    loop = judging_loop()
    ops = config.ops
    pool = loop.pool(config.base_url, config.api_key(), int(ops["concurrency"]))
    limits = Limits(rpm=ops["rpm"], tpm=ops["tpm"])
    limiter = loop.limiter(settings.REDIS_URL) if limits.active else None
    policy = RetryPolicy(
        max_attempts=int(ops["max_attempts"]),
        timeout_s=float(ops["timeout_s"]),
        backoff_base_s=float(ops["backoff_base_s"]),
        backoff_max_s=float(ops["backoff_max_s"]),
    )
    base_request = {
        "model": config.model,
        **config.completion_kwargs(),
        **request_body(config),
    }
    suffix = config.prompt_suffix
    est_out = estimate_tokens_out(config)
    spend = {"spent": Decimal(0), "reserved": Decimal(0)}
    pending = iter(requests)

    async def one(req: JudgeRequest) -> RequestOutcome:
        outcome = RequestOutcome(key=req.key, state=ERROR)
        request = {
            **base_request,
            "messages": [{"role": "user", "content": req.prompt_text + suffix}],
        }
        for _ in range(int(ops["max_reasks"]) + 1):
            result = await call_with_retries(
                pool=pool,
                limiter=limiter,
                endpoint=config.base_url,
                limits=limits,
                policy=policy,
                request=request,
                est_tokens=req.est_tokens_in + est_out,
                n=config.samples,
            )
            outcome.attempts.extend(result.attempts)
            if result.contents is None:
                outcome.state, outcome.error = ERROR, result.error
                return outcome
            answers = [
                parse_answer(config.verdict_mode, c, config.instrument) for c in result.contents
            ]
            outcome.raw_response = _raw_response(result.contents)
            if all(a.ok for a in answers):
                outcome.state, outcome.answers, outcome.error = OK, answers, ""
                return outcome
            # An explicit state; the next loop turn re-asks.
            result.attempts[-1].outcome = "parse_failed"
            result.attempts[-1].error = "; ".join(a.error for a in answers if not a.ok)[:500]
            outcome.state, outcome.error = FAILED, result.attempts[-1].error
        return outcome

    async def worker() -> None:
        for req in pending:  # a shared iterator: each request is taken by one worker only
            est = price.cost(req.est_tokens_in, est_out) if budget_usd is not None else Decimal(0)
            if budget_usd is not None and spend["spent"] + spend["reserved"] + est > budget_usd:
                deliver(RequestOutcome(key=req.key, state=ERROR, error="budget cap reached"))
                continue
            spend["reserved"] += est
            try:
                outcome = await one(req)
            finally:
                spend["reserved"] -= est
            spend["spent"] += price.cost(outcome.tokens_in, outcome.tokens_out)
            deliver(outcome)

    await asyncio.gather(*(worker() for _ in range(int(ops["concurrency"]))))


def request_body(config: JudgeConfig) -> dict:
    """The verdict mode's structured-output arguments with the judge's own `extra_body`
    merged in, one level deep (so both can set keys of `structured_outputs`)."""
    extras = request_extras(config.verdict_mode, config.instrument)
    own = config.sampling.get("extra_body")
    if not own:
        return extras
    body = dict(extras.get("extra_body", {}))
    for key, value in own.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return {**extras, "extra_body": body}


def _raw_response(contents: list[str | None]) -> str:
    if len(contents) == 1:
        return contents[0] or ""
    return "\n\n".join(f"[sample {i + 1}]\n{c or ''}" for i, c in enumerate(contents))
