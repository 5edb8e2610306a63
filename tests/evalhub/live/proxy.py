"""A byte-for-byte TCP relay in front of the real `vllm serve`, so a test can kill the
endpoint mid-stream for real: `cut_after` closes the next streamed answer's connections
once that many response bytes have passed. Streams pass through as they come."""

from __future__ import annotations

import asyncio
import threading


class CuttingRelay:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after: int | None = None
        self.cuts = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    def start(self) -> str:
        self._thread.start()
        self._ready.wait(10)
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)

        async def upward() -> None:
            while data := await reader.read(65536):
                up_writer.write(data)
                await up_writer.drain()

        async def downward() -> None:
            passed = 0
            while data := await up_reader.read(65536):
                writer.write(data)
                await writer.drain()
                passed += len(data)
                limit = self.cut_after
                if limit is not None and passed >= limit and b"text/event-stream" in first:
                    self.cut_after = None
                    self.cuts += 1
                    return  # the endpoint "dies": both connections are dropped

        first = b""
        up = asyncio.ensure_future(upward())
        try:
            first = await up_reader.read(4096)
            writer.write(first)
            await writer.drain()
            await downward()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            up.cancel()
            for w in (writer, up_writer):
                w.transport.abort()
