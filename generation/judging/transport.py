"""Calls to OpenAI-compatible judge endpoints, made from one event loop per process.

Why a loop thread: an `AsyncOpenAI` client and its pooled connections belong to the loop that
made them, and Celery runs jobs one after another in plain threads. Keeping one loop alive in
a daemon thread lets every job in the process reuse one client per endpoint (and its
keep-alive connections) while the job's own thread writes to the database.

`call_with_retries` makes one logical call: bounded by the endpoint's semaphore, paced by the
shared Redis limiter, retried on 429 / 5xx / timeouts / connection errors / malformed bodies
with exponential backoff and full jitter (never sooner than the server's retry-after), and
failing explicitly after `max_attempts` tries. 4xx other than 408/409/429 are not retried."""

from __future__ import annotations

import asyncio
import concurrent.futures
import email.utils
import json
import os
import random
import threading
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, TypeVar

import openai
from openai import AsyncOpenAI

from generation.judging.ratelimit import Limits, TokenBucketLimiter

T = TypeVar("T")

RETRYABLE_STATUS = {408, 409, 429}


@dataclass
class Attempt:
    """One HTTP attempt: its outcome (a `JudgeCall.Outcome` value) and what it used."""

    outcome: str
    http_status: int | None = None
    error: str = ""
    latency_ms: int = 0
    tokens_in: int = 0
    tokens_out: int = 0


@dataclass
class CallResult:
    """The answer contents (one per sample) of the successful attempt, or None after
    `max_attempts` failed tries; `attempts` lists every try in order."""

    contents: list[str | None] | None
    attempts: list[Attempt] = field(default_factory=list)
    error: str = ""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    timeout_s: float = 60.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds before try `attempt + 1`: full jitter on base * 2^(attempt-1), capped,
        and never less than what the server asked for."""
        ceiling = min(self.backoff_max_s, self.backoff_base_s * 2 ** (attempt - 1))
        jittered = random.uniform(0, ceiling)
        return max(jittered, retry_after or 0.0)


class EndpointPool:
    """One client and one concurrency bound per endpoint, per process."""

    def __init__(self, base_url: str, api_key: str, concurrency: int) -> None:
        self.client = AsyncOpenAI(
            base_url=base_url,
            api_key=api_key,
            max_retries=0,  # retries are ours: jitter, retry-after, shared limits, records
            http_client=_http_client(concurrency),
        )
        self.semaphore = asyncio.Semaphore(concurrency)


def _http_client(concurrency: int) -> Any:
    """The SDK's aiohttp transport: at a few hundred requests in flight, httpx's pool spends
    more CPU scanning its connections per request than the request costs (profiled: half
    the client's time), and on 2 cores client CPU is the ceiling."""
    from openai._constants import DEFAULT_CONNECTION_LIMITS

    # Keep as many idle connections as we may have requests in flight, so none is reopened.
    limits = type(DEFAULT_CONNECTION_LIMITS)(
        max_connections=concurrency, max_keepalive_connections=concurrency, keepalive_expiry=30
    )
    return openai.DefaultAioHttpClient(limits=limits)


class JudgingLoop:
    """The process's judging event loop, running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="judging-loop")
        self.thread.daemon = True
        self.thread.start()
        self.pools: dict[tuple[str, str, int], EndpointPool] = {}
        self.limiters: dict[str, TokenBucketLimiter] = {}

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    # The two getters below run on the loop only, so they need no lock.
    def pool(self, base_url: str, api_key: str, concurrency: int) -> EndpointPool:
        key = (base_url, api_key, concurrency)
        if key not in self.pools:
            self.pools[key] = EndpointPool(base_url, api_key, concurrency)
        return self.pools[key]

    def limiter(self, redis_url: str) -> TokenBucketLimiter:
        if redis_url not in self.limiters:
            self.limiters[redis_url] = TokenBucketLimiter(redis_url)
        return self.limiters[redis_url]


_loop: JudgingLoop | None = None
_loop_lock = threading.Lock()


def judging_loop() -> JudgingLoop:
    global _loop
    with _loop_lock:
        if _loop is None:
            _loop = JudgingLoop()
        return _loop


def _forget_loop_after_fork() -> None:
    # A forked child has no loop thread; it starts its own on first use.
    global _loop, _loop_lock
    _loop = None
    _loop_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_loop_after_fork)


def retry_after_seconds(headers: Any) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return max(0.0, float(value) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value)
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None


async def call_with_retries(
    *,
    pool: EndpointPool,
    limiter: TokenBucketLimiter | None,
    endpoint: str,
    limits: Limits,
    policy: RetryPolicy,
    request: dict[str, Any],
    est_tokens: int,
    n: int,
) -> CallResult:
    """Make one logical chat-completion call (see module docstring)."""
    result = CallResult(contents=None)
    for attempt_no in range(1, policy.max_attempts + 1):
        if limiter is not None:
            await limiter.acquire(endpoint, limits, est_tokens)
        attempt, contents, retry_after = await _attempt(pool, policy, request, n)
        result.attempts.append(attempt)
        if limiter is not None and attempt.tokens_in + attempt.tokens_out:
            limiter.settle(endpoint, limits, est_tokens, attempt.tokens_in + attempt.tokens_out)
        if contents is not None:
            result.contents = contents
            return result
        if attempt.outcome == "rejected":
            break
        if attempt_no < policy.max_attempts:
            await asyncio.sleep(policy.delay(attempt_no, retry_after))
    last = result.attempts[-1]
    result.error = (
        f"gave up after {len(result.attempts)} tries; last: {last.outcome}"
        f"{f' {last.http_status}' if last.http_status else ''} {last.error}"
    ).strip()
    return result


async def _attempt(
    pool: EndpointPool, policy: RetryPolicy, request: dict[str, Any], n: int
) -> tuple[Attempt, list[str | None] | None, float | None]:
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        async with pool.semaphore:
            completion = await pool.client.chat.completions.create(
                **request, timeout=policy.timeout_s
            )
    except openai.APITimeoutError as exc:
        return Attempt("timeout", error=str(exc)[:500], latency_ms=took()), None, None
    except openai.APIConnectionError as exc:
        return Attempt("connection", error=str(exc)[:500], latency_ms=took()), None, None
    except openai.APIStatusError as exc:
        status = exc.status_code
        outcome = (
            "rate_limited"
            if status == 429
            else "server_error"
            if status >= 500 or status in RETRYABLE_STATUS
            else "rejected"
        )
        wait = retry_after_seconds(exc.response.headers)
        attempt = Attempt(outcome, http_status=status, error=str(exc)[:500], latency_ms=took())
        return attempt, None, wait
    except (openai.APIError, ValueError, TypeError) as exc:
        # A 200 whose body is not a chat completion (bad JSON, wrong shape).
        return Attempt("malformed", error=str(exc)[:500], latency_ms=took()), None, None

    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list) or len(choices) != n:
        got = len(choices) if isinstance(choices, list) else type(completion).__name__
        error = f"expected {n} choices, got {got}"
        return Attempt("malformed", http_status=200, error=error, latency_ms=took()), None, None
    usage = getattr(completion, "usage", None)
    attempt = Attempt(
        "ok",
        http_status=200,
        latency_ms=took(),
        tokens_in=int(getattr(usage, "prompt_tokens", 0) or 0),
        tokens_out=int(getattr(usage, "completion_tokens", 0) or 0),
    )
    contents = []
    for choice in sorted(choices, key=lambda c: getattr(c, "index", 0) or 0):
        message = getattr(choice, "message", None)
        content = getattr(message, "content", None)
        if request.get("top_logprobs"):
            content = _with_top_logprobs(content, getattr(choice, "logprobs", None))
        contents.append(content)
    return attempt, contents, None


def _with_top_logprobs(content: str | None, logprobs: Any) -> str | None:
    """Weighted verdicts: the first token's top logprobs travel with the content as JSON (and
    end up in raw_response, so every probability can be checked)."""
    tokens = getattr(logprobs, "content", None) or []
    if not tokens:
        return content
    top = {t.token: t.logprob for t in (getattr(tokens[0], "top_logprobs", None) or [])}
    return json.dumps({"content": content, "top_logprobs": top})
