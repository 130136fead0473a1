"""The one-inference-per-request baseline: how OpenVINO Model Server serves embeddings.

A minimal aiohttp `POST /v3/embeddings` (OpenAI format, float or base64) that tokenizes,
runs the compiled model once for the texts of that request, pools and normalizes, exactly as
`raw_model.RawEmbedder` does in-process. Requests never share an inference. Inference runs
on worker threads (one per infer request the compiled model wants), so the event loop keeps
accepting requests while the model runs; it is not made artificially slow.

    python benchmarks/baseline_server.py --graph_dir WORKSPACE/GRAPH --port 8001

`GET /v2/health/ready` answers 200 once the model is compiled (before that the port is closed).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import queue
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from aiohttp import web

# A sibling module: `python benchmarks/baseline_server.py` puts this directory on sys.path.
from raw_model import RawEmbedder, graph_files

EMBEDDER = web.AppKey("embedder", RawEmbedder)
POOL = web.AppKey("pool", ThreadPoolExecutor)
REQUESTS: web.AppKey[queue.SimpleQueue[Any]] = web.AppKey("requests")


def _embed(app: web.Application, texts: list[str]) -> tuple[np.ndarray, int]:
    # Each worker thread borrows its own infer request; the queue holds one per thread.
    request = app[REQUESTS].get()
    try:
        return app[EMBEDDER].embed(texts, request)
    finally:
        app[REQUESTS].put(request)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def embeddings(request: web.Request) -> web.Response:
    """OpenAI embeddings: `input` is a string or a list of strings."""
    try:
        body = await request.json()
        texts = body["input"]
    except (ValueError, KeyError, TypeError):
        return _error(400, "expected a JSON object with an 'input' field")
    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        return _error(400, "'input' must be a string or a non-empty list of strings")
    app = request.app
    loop = asyncio.get_running_loop()
    vectors, tokens = await loop.run_in_executor(app[POOL], _embed, app, texts)
    as_base64 = body.get("encoding_format") == "base64"
    data = [
        {
            "object": "embedding",
            "embedding": base64.b64encode(row.tobytes()).decode() if as_base64 else row.tolist(),
            "index": index,
        }
        for index, row in enumerate(vectors)
    ]
    answer = {
        "object": "list",
        "data": data,
        "model": body.get("model", ""),
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return web.Response(body=json.dumps(answer, separators=(",", ":")), content_type="application/json")


async def ready(request: web.Request) -> web.Response:
    return web.Response(status=200)


def make_app(embedder: RawEmbedder) -> web.Application:
    """The aiohttp application over one loaded embedder."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    workers = embedder.optimal_requests
    app[EMBEDDER] = embedder
    app[POOL] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="baseline-infer")
    app[REQUESTS] = queue.SimpleQueue()
    for _ in range(workers):
        app[REQUESTS].put(embedder.new_request())
    app.router.add_post("/v3/embeddings", embeddings)
    app.router.add_post("/v3/v1/embeddings", embeddings)
    app.router.add_get("/v2/health/ready", ready)

    async def shutdown(app: web.Application) -> None:
        app[POOL].shutdown(wait=True)

    app.on_cleanup.append(shutdown)
    return app


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--graph_dir", type=Path, required=True, help="versioned embeddings graph directory")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--properties",
        default=None,
        help="OpenVINO properties as JSON (default: the graph's subconfig.json plugin_config)",
    )
    args = p.parse_args(argv)
    files = graph_files(args.graph_dir)
    properties = json.loads(args.properties) if args.properties else files.plugin_config
    embedder = RawEmbedder(files, properties)
    print(
        f"baseline: {embedder.optimal_requests} infer request(s), precision {embedder.precision}, "
        f"properties {properties}",
        file=sys.stderr,
        flush=True,
    )
    web.run_app(make_app(embedder), host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
