"""Drive a running ovserve over gRPC with `tritonclient.grpc` and print what it saw as JSON.

Run in its own interpreter (`python -m tests.grpc.triton_probe HOST:PORT GRAPH TOKENIZER`):
tritonclient registers Triton's `inference.*` messages in protobuf's default descriptor
pool, and so does ovserve's KServe proto, so both cannot be imported into one process.
"""

from __future__ import annotations

import json
import queue
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import tritonclient.grpc as triton
from tritonclient.utils import InferenceServerException


def _texts_input(texts: list[str]) -> Any:
    tensor = triton.InferInput("input", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=np.object_))
    return tensor


def _error(exc: InferenceServerException) -> dict[str, str]:
    return {"status": str(exc.status()), "message": str(exc.message())}


def probe(url: str, graph: str, tokenizer: str) -> dict[str, Any]:
    client = triton.InferenceServerClient(url=url)
    report: dict[str, Any] = {
        "live": client.is_server_live(),
        "ready": client.is_server_ready(),
        "server_metadata": client.get_server_metadata(as_json=True),
        "graph_ready": client.is_model_ready(graph),
        "graph_metadata": client.get_model_metadata(graph, as_json=True),
        "tokenizer_metadata": client.get_model_metadata(tokenizer, as_json=True),
        # What perf_analyzer asks first (Triton's model-configuration extension).
        "graph_config": client.get_model_config(graph, as_json=True),
        "graph_config_v1": client.get_model_config(graph, "1", as_json=True),
        "tokenizer_config": client.get_model_config(tokenizer, as_json=True),
    }
    texts = ["The quick brown fox", "jumps over the lazy dog"]
    result = client.infer(graph, [_texts_input(texts)], outputs=[triton.InferRequestedOutput("output")])
    report["embeddings"] = result.as_numpy("output").tolist()
    report["prompt_tokens"] = result.get_response().parameters["prompt_tokens"].int64_param
    cut = client.infer(graph, [_texts_input(texts)], parameters={"dimensions": 64})
    report["dimensions_shape"] = list(cut.as_numpy("output").shape)

    text_input = report["tokenizer_metadata"]["inputs"][0]["name"]
    tokens = triton.InferInput(text_input, [1], "BYTES")
    tokens.set_data_from_numpy(np.array([b"hello world"], dtype=np.object_))
    report["input_ids"] = client.infer(tokenizer, [tokens]).as_numpy("input_ids").tolist()

    errors: dict[str, dict[str, str]] = {}
    calls: dict[str, Callable[[], object]] = {
        "unknown_model": lambda: client.infer("nope", [_texts_input(texts)]),
        "bad_parameter": lambda: client.infer(graph, [_texts_input(texts)], parameters={"normalize": False}),
        "unknown_ready": lambda: client.is_model_ready("nope"),
        "unknown_config": lambda: client.get_model_config("nope"),
        "graph_config_v2": lambda: client.get_model_config(graph, "2"),
    }
    for key, call in calls.items():
        try:
            call()
        except InferenceServerException as exc:
            errors[key] = _error(exc)
    report["errors"] = errors

    # 100 requests over one stream; every 10th is for an unknown model and fails alone.
    answers: queue.Queue[tuple[Any, Any]] = queue.Queue()
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    for i in range(100):
        client.async_stream_infer(
            "nope" if i % 10 == 9 else graph, [_texts_input([f"text {i}"])], request_id=str(i)
        )
    stream: list[dict[str, Any]] = []
    for _ in range(100):
        result, error = answers.get(timeout=60)
        if error is not None:
            stream.append({"error": str(error.message())})
        else:
            response = result.get_response()
            stream.append({"id": response.id, "shape": list(result.as_numpy("output").shape)})
    client.stop_stream()
    report["stream"] = stream
    client.close()
    return report


if __name__ == "__main__":
    print(json.dumps(probe(*sys.argv[1:4])))
