"""A small HTTP proxy in front of the real `vllm serve`, for the faults a real server will not
produce on demand: 429 with retry-after, 500, a hang past the client's timeout, a malformed
200 body. Every other request is forwarded unchanged. It records what it saw, so tests can
check retries, waits and that the real server got each request once."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import deque
from dataclasses import dataclass, field

import httpx

FAULTS = ("429", "500", "timeout", "malformed")


@dataclass
class Seen:
    at: float
    body_sha: str
    fault: str  # "" when forwarded
    body: bytes = b""


@dataclass
class FaultProxy:
    upstream: str  # e.g. http://127.0.0.1:8000 (no /v1)
    faults: deque[str] = field(default_factory=deque)  # consumed one per request
    always: str = ""  # a fault for every request (to exhaust retries)
    retry_after_s: float = 1.0
    hang_s: float = 20.0
    seen: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _shutdown(self) -> None:
        self._server.close()
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self._client.aclose()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=120)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    # --- what tests read -----------------------------------------------------------------
    def forwarded(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if not s.fault]

    def injected(self) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.fault]

    def _next_fault(self) -> str:
        with self._lock:
            if self.always:
                return self.always
            return self.faults.popleft() if self.faults else ""

    # --- HTTP/1.1 with keep-alive, enough for the openai client --------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                await self._answer(method, path, headers, body, writer)
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _answer(self, method, path, headers, body, writer) -> None:
        fault = self._next_fault() if path.endswith("/chat/completions") else ""
        with self._lock:
            self.seen.append(Seen(time.monotonic(), hashlib.sha256(body).hexdigest(), fault, body))
        if fault == "429":
            await _respond(
                writer, 429, b'{"error": {"message": "slow down"}}',
                {"retry-after": str(self.retry_after_s)},
            )  # fmt: skip
        elif fault == "500":
            await _respond(writer, 500, b'{"error": {"message": "upstream broke"}}')
        elif fault == "timeout":
            await asyncio.sleep(self.hang_s)  # the client gives up first; nothing forwarded
            raise ConnectionError("hung up")
        elif fault == "malformed":
            await _respond(writer, 200, b'{"id": "x", "choices": [{"mess')
        else:
            forward = {k: v for k, v in headers.items() if k in {"content-type", "authorization"}}
            upstream = await self._client.request(method, path, content=body, headers=forward)
            await _respond(writer, upstream.status_code, upstream.content)


async def _respond(writer, status: int, body: bytes, extra: dict[str, str] | None = None) -> None:
    head = [f"HTTP/1.1 {status} X", "content-type: application/json",
            f"content-length: {len(body)}", "connection: keep-alive"]  # fmt: skip
    head += [f"{k}: {v}" for k, v in (extra or {}).items()]
    writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
    await writer.drain()
