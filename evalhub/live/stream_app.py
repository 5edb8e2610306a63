"""The live answer endpoint (POST /live/<study>/c/<conversation>/send/) as a bare ASGI app,
mounted in front of Django by evalhub.asgi.

Why not a Django view: under ASGI every synchronous middleware runs on one shared thread, so
twenty raters who send at once queue behind each other before their answer can start. This
app does what the stack would (host check, CSRF check with Django's own middleware, the
session cookie), reads the session and history in one statement on the event loop
(evalhub.live.answer_db) while Redis counts the message (redis.asyncio: no thread hop),
starts the models, writes the turn's rows while they read the
prompt, and writes the frames of evalhub.live.streaming straight to the connection."""

from __future__ import annotations

import asyncio
import io
import json
import re
import time
from collections.abc import Awaitable
from typing import Any, TypeVar

from django.core.exceptions import DisallowedHost
from django.core.handlers.asgi import ASGIRequest
from django.middleware.csrf import CsrfViewMiddleware

from evalhub.live import answer_db, turns
from evalhub.live.errors import LiveInputError
from evalhub.live.streaming import SideStreams, in_thread, turn_frames
from evalhub.rating.limits import event_count_async

SEND_PATH = re.compile(r"^/live/(?P<crowd_code>[-a-zA-Z0-9_]+)/c/(?P<token>[-a-zA-Z0-9_]+)/send/$")
COOKIE = "ls"
# A message is at most a study's max_prompt_chars; a body past this is refused unread.
MAX_BODY_BYTES = 1024 * 1024
_csrf = CsrfViewMiddleware(lambda request: None)
T = TypeVar("T")


def _since(start: float) -> float:
    return round((time.perf_counter() - start) * 1000, 1)


async def _timed(work: Awaitable[T], phases: dict[str, float], phase: str, arrived: float) -> T:
    """`work`'s result; when it came (ms since `arrived`) goes in `phases[phase]`."""
    value = await work
    phases[phase] = _since(arrived)
    return value


def is_send(scope: dict[str, Any]) -> bool:
    return scope["type"] == "http" and bool(SEND_PATH.match(scope["path"]))


async def _json(send: Any, status: int, body: dict[str, Any]) -> None:
    data = json.dumps(body).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"),
                            (b"cache-control", b"no-store"),
                            (b"content-length", str(len(data)).encode())]})  # fmt: skip
    await send({"type": "http.response.body", "body": data})


async def _body(receive: Any) -> bytes | None:
    """The request body, or None when it is over MAX_BODY_BYTES (or the client left)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _refusal(request: ASGIRequest) -> str:
    """Why the request is refused before any work ("" when it is not)."""
    try:
        request.get_host()
    except DisallowedHost:
        return "host"
    _csrf.process_request(request)
    if _csrf.process_view(request, None, (), {}) is not None:
        return "csrf"
    return ""


async def live_send_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """POST the rater's message; the answer streams back as server-sent events. Refusals
    answer JSON {"error"} with a 4xx status before anything streams."""
    arrived = time.perf_counter()  # per-phase timings (ms from arrival) go in provenance
    match = SEND_PATH.match(scope["path"])
    if scope["method"] != "POST":
        await _json(send, 405, {"error": "POST a message"})
        return
    body = await _body(receive)
    if body is None:
        await _json(send, 413, {"error": "Your message is far too long."})
        return
    phases = {"body_read": _since(arrived)}
    request = ASGIRequest(scope, io.BytesIO(body))
    refused = _refusal(request)
    phases["checks"] = _since(arrived)
    if refused:
        await _json(send, 403 if refused == "csrf" else 400, {"error": "Please reload the page."})
        return
    session_token, text = request.COOKIES.get(COOKIE, ""), request.POST.get("text", "")
    try:
        # The session and history (one statement, on the loop) while Redis counts the rate.
        params = turns.state_params(session_token=session_token, crowd_code=match["crowd_code"],
                                    token=match["token"])  # fmt: skip
        state, sent = await asyncio.gather(
            _timed(answer_db.turn_state(params), phases, "state_read", arrived),
            _timed(event_count_async(turns.rate_key(session_token)), phases, "rate_counted",
                   arrived),
        )  # fmt: skip
        state = turns.session_checked(state, sent=sent)
        live = turns.live_settings(state)
        if live.moderation_judge_id is None:
            text = turns.prompt_checked(live, text)
        else:  # asking the judge is a blocking call
            text = await in_thread(turns.prompt_checked, live, text)
        plan = turns.turn_plan(state, text)
    except LiveInputError as exc:
        await _json(send, exc.status, {"error": str(exc)})
        return
    phases["planned"] = _since(arrived)
    # The models start now; the turn's rows are written while they read the prompt.
    streams = SideStreams(plan.sides)
    try:
        opened = plan.opened(await answer_db.open_rows(plan))
    except BaseException as exc:
        await streams.cancel()
        if not isinstance(exc, LiveInputError):
            raise
        await _json(send, exc.status, {"error": str(exc)})
        return
    phases["turn_open"] = _since(arrived)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/event-stream"),
                            (b"cache-control", b"no-store"),
                            (b"x-accel-buffering", b"no")]})  # fmt: skip
    phases["headers_sent"] = _since(arrived)
    frames = turn_frames(opened, streams, arrived=arrived, phases=phases)

    async def stream() -> None:
        async for chunk in frames:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    async def left() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    streaming, leaving = asyncio.create_task(stream()), asyncio.create_task(left())
    try:
        await asyncio.wait({streaming, leaving}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        leaving.cancel()
        if not streaming.done():  # the rater left: the turn is recorded as failed
            streaming.cancel()
            await asyncio.gather(streaming, return_exceptions=True)
        await frames.aclose()
        if streaming.done() and not streaming.cancelled() and streaming.exception():
            raise streaming.exception()
