"""Streaming live turns from OpenAI-compatible endpoints (a chat-completions request with
stream=True, posted with httpx2, its events read as plain JSON) as server-sent-event
frames for the browser.

Frames carry only the side ("A" left / only model, "B" right), text and sanitised HTML:
never a model name, slug or id. A turn's frames: `delta` (new text) many times, then
`done` (the whole answer, rendered and sanitised) per side, or `error` (the turn failed
and counts toward nothing; the rater may retry), and a final `end`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import httpx2
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connection

from evalhub.live.turns import ModelSpec, OpenedTurn, turn_fail, turns_finish
from evalhub.outputs.rendering import render_untrusted_markdown
from evalhub.reconnect import rerun_once_if_disconnected

FAILED_MESSAGE = (
    "The assistant stopped answering part-way (its server did not respond). This turn was "
    "not counted. Press Retry to send your message again."
)
LEFT_MESSAGE = "the rater left before the answer finished"

T = TypeVar("T")
log = logging.getLogger(__name__)
_clients: dict[int, httpx2.AsyncClient] = {}
_gates: dict[tuple[int, str], asyncio.Semaphore] = {}


def _client() -> httpx2.AsyncClient:
    """One HTTP client per event loop (it keeps the endpoints' connections). The OpenAI
    chat-completions request is posted with httpx2, the `openai` client's own HTTP library,
    not through the `openai` client: building a request there costs several milliseconds of
    CPU, paid by every rater who sends at once before their first token. The streams' number
    is capped by each model's gate, not here."""
    key = id(asyncio.get_running_loop())
    found = _clients.get(key)
    if found is None:
        found = _clients[key] = httpx2.AsyncClient(
            timeout=settings.LIVE_STREAM_TIMEOUT_SECONDS,
            limits=httpx2.Limits(max_connections=None, max_keepalive_connections=64),
        )
    return found


def _gate(spec: ModelSpec) -> asyncio.Semaphore:
    """The model's concurrency limit in this process (per event loop: a semaphore belongs
    to one)."""
    loop_id = id(asyncio.get_running_loop())
    key = (loop_id, spec.slug)
    gate = _gates.get(key)
    if gate is None:
        gate = asyncio.Semaphore(spec.concurrency or settings.LIVE_MODEL_CONCURRENCY)
        _gates[key] = gate
    return gate


_executor: ThreadPoolExecutor | None = None


def _live_threads() -> ThreadPoolExecutor:
    """The live path's own threads for blocking work, LIVE_THREADS of them per process.
    The loop's default executor has min(32, cores + 4): six on two cores, so twenty raters
    who send at once would queue for a thread."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(settings.LIVE_THREADS, thread_name_prefix="live")
    return _executor


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """`fn` on one of the live path's threads, not the one shared thread: concurrent
    raters do not queue behind each other. Each thread keeps its connection between calls
    (CONN_MAX_AGE). The health check's extra round trip (SELECT 1 before the first
    statement) is skipped: `fn` runs once more on a fresh connection if the one it ran on
    was lost (evalhub.reconnect), as the rating loop does."""

    def call() -> T:
        close_old_connections()
        connection.health_check_done = True  # see above: a lost connection reruns `fn`
        return rerun_once_if_disconnected(fn)(*args, **kwargs)

    return await sync_to_async(call, thread_sensitive=False, executor=_live_threads())()


def frame(event: str, data: dict[str, Any]) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n".encode()


class TurnFailed(Exception):
    """One side's stream broke; carries what had arrived."""

    def __init__(self, side: str, text: str, provenance: dict[str, Any], error: str) -> None:
        super().__init__(error)
        self.side, self.text, self.provenance = side, text, provenance


async def stream_chunks(response: httpx2.Response) -> AsyncIterator[dict[str, Any]]:
    """The chunks of an OpenAI-compatible event stream as plain dicts (one `data:` line per
    event, up to `[DONE]`). Parsed with json.loads, not into the openai client's typed
    chunks, which cost about thirty times the CPU per token on a web process that streams
    many answers at once. An error status, or an `error` event (the server gave up
    mid-answer), raises ValueError."""
    if response.status_code >= 400:
        detail = (await response.aread())[:500].decode(errors="replace")
        raise ValueError(f"the endpoint answered {response.status_code}: {detail}")
    async for line in response.aiter_lines():
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if payload == "[DONE]":
            return
        chunk = json.loads(payload)
        if chunk.get("error"):
            raise ValueError(f"the endpoint stopped with an error: {chunk['error']}")
        yield chunk


async def _stream_side(opened: OpenedTurn, queue: asyncio.Queue) -> tuple[str, dict[str, Any]]:
    """Stream one side into `queue` as ("delta", side, text); return the whole text and
    the turn's provenance. Raises TurnFailed."""
    spec, sampling = opened.spec, opened.spec.sampling
    body: dict[str, Any] = {
        "model": spec.model_name, "messages": opened.messages, "stream": True,
        "stream_options": {"include_usage": True}, "temperature": sampling["temperature"],
        "top_p": sampling["top_p"], "max_tokens": sampling["max_tokens"], "seed": opened.seed,
        "repetition_penalty": sampling["repetition_penalty"],
    }  # fmt: skip
    key = os.environ.get(spec.api_key_env, "") if spec.api_key_env else ""
    url = spec.base_url.rstrip("/") + "/chat/completions"
    if sampling.get("stop"):
        body["stop"] = list(sampling["stop"])
    parts: list[str] = []
    provenance: dict[str, Any] = {
        "model": spec.slug, "endpoint": spec.base_url, "model_name": spec.model_name,
        "sampling": {**sampling, "seed": opened.seed}, "seed": opened.seed,
    }  # fmt: skip
    queued = time.perf_counter()
    async with _gate(spec):
        started = time.perf_counter()
        first = None
        try:
            headers = {"Authorization": f"Bearer {key or 'EMPTY'}"}
            async with _client().stream("POST", url, json=body, headers=headers) as response:
                async for chunk in stream_chunks(response):
                    if chunk.get("usage"):
                        provenance["prompt_tokens"] = chunk["usage"]["prompt_tokens"]
                        provenance["completion_tokens"] = chunk["usage"]["completion_tokens"]
                    for choice in chunk.get("choices") or ():
                        if choice.get("finish_reason"):
                            provenance["finish_reason"] = choice["finish_reason"]
                        delta = (choice.get("delta") or {}).get("content")
                        if delta:
                            # A model may emit NUL, which PostgreSQL text cannot hold.
                            delta = delta.replace("\x00", "\ufffd")
                            if first is None:
                                first = time.perf_counter()
                            parts.append(delta)
                            queue.put_nowait(("delta", opened.side, delta))
                    if chunk.get("model"):
                        provenance["response_model"] = chunk["model"]
        except (httpx2.HTTPError, OSError, ValueError) as exc:
            provenance["failed_after_ms"] = round((time.perf_counter() - started) * 1000, 1)
            raise TurnFailed(opened.side, "".join(parts), provenance, repr(exc)) from exc
    ended = time.perf_counter()
    provenance["timings_ms"] = {
        "queued": round((started - queued) * 1000, 1),
        "first_token": round(((first or ended) - started) * 1000, 1),
        "total": round((ended - started) * 1000, 1),
    }
    if "finish_reason" not in provenance:  # the stream ended without saying why: broken
        raise TurnFailed(opened.side, "".join(parts), provenance, "stream ended early")
    return "".join(parts), provenance


async def _side_outcome(opened: OpenedTurn, queue: asyncio.Queue) -> None:
    """Stream one side, then put its outcome in the queue after its last delta:
    ("ok", side, (text, provenance)) or ("failed", side, TurnFailed)."""
    try:
        queue.put_nowait(("ok", opened.side, await _stream_side(opened, queue)))
    except TurnFailed as exc:
        queue.put_nowait(("failed", opened.side, exc))
    except Exception as exc:  # a failure of a kind not foreseen still ends the turn, failed
        log.exception("live stream of side %s failed unexpectedly", opened.side)
        queue.put_nowait(("failed", opened.side, TurnFailed(opened.side, "", {}, repr(exc))))


class SideStreams:
    """The endpoint calls of a turn's sides, started as soon as the turn is planned (its
    rows are written meanwhile): their deltas and outcomes arrive in one queue."""

    def __init__(self, sides: list[OpenedTurn]) -> None:
        self.queue: asyncio.Queue = asyncio.Queue()
        self.tasks = [asyncio.create_task(_side_outcome(o, self.queue)) for o in sides]

    async def cancel(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def turn_frames(
    opened: list[OpenedTurn], streams: SideStreams, *, arrived: float | None = None,
    phases: dict[str, float] | None = None,
) -> AsyncIterator[bytes]:  # fmt: skip
    """The frames of one turn, both sides streamed at the same time (`streams`, started
    for `opened`); writes the turn's outcome (finished, or failed on every side) before
    the last frame. Deltas that arrive together go out as one frame per side (fewer
    writes when the rater's link is slow). `phases` (ms since the request `arrived`, a
    perf_counter) join each side's provenance timings, with `first_frame`: arrival to
    that side's first text frame."""
    queue, tasks = streams.queue, streams.tasks
    first_frame: dict[str, float] = {}
    by_side = {o.side: o for o in opened}
    results: dict[int, tuple[str, dict[str, Any]]] = {}
    failure: TurnFailed | None = None
    recorded = False
    try:
        yield frame("start", {"sides": list(by_side)})
        remaining = len(opened)
        while remaining and failure is None:
            batch = [await queue.get()]
            while not queue.empty():
                batch.append(queue.get_nowait())
            pieces: dict[str, list[str]] = {}
            for kind, side, value in batch:
                if kind == "delta":
                    pieces.setdefault(side, []).append(value)
                    continue
                remaining -= 1
                if kind == "ok":
                    results[by_side[side].turn_id] = value
                else:
                    failure = failure or value
                    results[by_side[side].turn_id] = (value.text, value.provenance)
            for side, texts in pieces.items():
                yield frame("delta", {"side": side, "text": "".join(texts)})
                if arrived is not None and side not in first_frame:
                    first_frame[side] = round((time.perf_counter() - arrived) * 1000, 1)
        if failure is not None:
            for task in tasks:
                task.cancel()
            await _fail(opened, results, repr(failure))
            recorded = True
            yield frame("error", {"message": FAILED_MESSAGE})
        else:
            for o in opened:
                timings = results[o.turn_id][1].setdefault("timings_ms", {})
                timings.update(phases or {})
                if o.side in first_frame:
                    timings["first_frame"] = first_frame[o.side]
            await in_thread(turns_finish, results=results)  # both sides: one hop, one commit
            recorded = True
            for o in opened:
                html = render_untrusted_markdown(results[o.turn_id][0])
                yield frame("done", {"side": o.side, "html": html})
        yield frame("end", {"ok": failure is None})
    finally:
        if not recorded:  # the rater left (the response was cancelled) or we broke
            for task in tasks:
                task.cancel()
            await _fail(opened, results, LEFT_MESSAGE)


async def _fail(
    opened: list[OpenedTurn], results: dict[int, tuple[str, dict[str, Any]]], error: str
) -> None:
    await in_thread(
        turn_fail,
        turn_ids=[o.turn_id for o in opened],
        error=error,
        texts={k: v[0] for k, v in results.items()},
        provenance={k: v[1] for k, v in results.items()},
    )
