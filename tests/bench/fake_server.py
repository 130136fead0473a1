"""A real, tiny OpenAI-embeddings server for the load generator's tests.

Vectors are deterministic (the text's length and word count), `usage.prompt_tokens` counts
words plus the two BERT specials, and any input text containing `FAIL` makes the request
answer 500, so tests can check that failures are counted rather than fatal.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import struct
import threading
from collections.abc import Iterator

from aiohttp import web

DIMENSIONS = 4


def vector(text: str) -> list[float]:
    """The embedding the fake server returns for `text`."""
    return [float(len(text)), float(len(text.split())), 1.0, -1.0]


async def embeddings(request: web.Request) -> web.Response:
    body = await request.json()
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    if any("FAIL" in text for text in texts):
        return web.json_response({"error": "injected failure"}, status=500)
    data: list[dict[str, object]] = []
    for index, text in enumerate(texts):
        values = vector(text)
        embedding: object = values
        if body.get("encoding_format") == "base64":
            embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
        data.append({"object": "embedding", "embedding": embedding, "index": index})
    tokens = sum(len(text.split()) + 2 for text in texts)
    return web.json_response(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


@contextlib.contextmanager
def fake_server() -> Iterator[str]:
    """Serve on 127.0.0.1 (port chosen by the OS) in a background thread; yields the URL of
    `/v3/embeddings`. The thread owns its event loop from start to end, so the code under test
    may run `asyncio.run` or be a coroutine itself."""
    ready = threading.Event()
    stop: list[asyncio.Event] = []
    ports: list[int] = []

    async def serve() -> None:
        app = web.Application()
        app.router.add_post("/v3/embeddings", embeddings)
        runner = web.AppRunner(app)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            ports.append(runner.addresses[0][1])
            stop.append(asyncio.Event())
            ready.set()
            await stop[0].wait()
        finally:
            await runner.cleanup()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    try:
        if not ready.wait(timeout=10):
            raise RuntimeError("the fake embeddings server did not start")
        yield f"http://127.0.0.1:{ports[0]}/v3/embeddings"
    finally:
        if stop:
            loop.call_soon_threadsafe(stop[0].set)
        thread.join(timeout=10)
        loop.close()
