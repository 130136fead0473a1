"""Embed texts over gRPC (KServe v2) with the stock `tritonclient.grpc` client.

Usage (with `make serve` running):

    .venv/bin/python examples/grpc_client/client.py [--url localhost:9000]
        [--model sentence-transformers/all-MiniLM-L6-v2] [--dimensions 128] [TEXT ...]

It checks the server, reads the graph's tensor contract from ModelMetadata, embeds the texts
with ModelInfer, prints each vector's first values and the cosine similarities, then sends the
same texts one by one over the bidirectional ModelStreamInfer.
"""

from __future__ import annotations

import argparse
import queue
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import tritonclient.grpc as triton

DEFAULT_TEXTS = ("A cat sits on the mat.", "A kitten rests on a rug.", "Stock markets fell sharply today.")


def texts_input(texts: Sequence[str]) -> Any:
    """The graph's one input: BYTES `input` of shape [N], one UTF-8 document per element."""
    tensor = triton.InferInput("input", [len(texts)], "BYTES")
    tensor.set_data_from_numpy(np.array([t.encode() for t in texts], dtype=np.object_))
    return tensor


def embed(
    client: Any, model: str, texts: Sequence[str], dimensions: int | None
) -> tuple[npt.NDArray[np.float32], int]:
    """FP32 [N, D] vectors and the prompt token count of one ModelInfer call."""
    parameters = {"dimensions": dimensions} if dimensions else None
    result = client.infer(model, [texts_input(texts)], parameters=parameters)
    vectors: npt.NDArray[np.float32] = result.as_numpy("output")
    tokens = int(result.get_response().parameters["prompt_tokens"].int64_param)
    return vectors, tokens


def stream(client: Any, model: str, texts: Sequence[str]) -> None:
    """One request per text over one stream; answers arrive in order through the callback."""
    answers: queue.Queue[tuple[Any, Any]] = queue.Queue()
    client.start_stream(callback=lambda result, error: answers.put((result, error)))
    for i, text in enumerate(texts):
        client.async_stream_infer(model, [texts_input([text])], request_id=str(i))
    for _ in texts:
        result, error = answers.get(timeout=60)
        if error is not None:
            print(f"  stream error: {error.message()}")
        else:
            print(f"  stream id {result.get_response().id}: shape {result.as_numpy('output').shape}")
    client.stop_stream()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="localhost:9000", help="gRPC address of ovserve (--port)")
    parser.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2", help="graph name")
    parser.add_argument("--dimensions", type=int, default=None, help="keep the first N values")
    parser.add_argument("texts", nargs="*", default=list(DEFAULT_TEXTS))
    args = parser.parse_args(argv)

    client = triton.InferenceServerClient(url=args.url)
    if not (client.is_server_live() and client.is_server_ready() and client.is_model_ready(args.model)):
        print(f"{args.model} is not ready at {args.url}")
        return 1
    server = client.get_server_metadata(as_json=True)
    print(f"server: {server['name']} {server['version']}")
    meta = client.get_model_metadata(args.model, as_json=True)
    for kind in ("inputs", "outputs"):
        for tensor in meta[kind]:
            print(f"{kind[:-1]}: {tensor['name']} {tensor['datatype']} {[int(d) for d in tensor['shape']]}")

    vectors, tokens = embed(client, args.model, args.texts, args.dimensions)
    print(f"embeddings: {vectors.shape[0]} x {vectors.shape[1]} float32, prompt_tokens={tokens}")
    for text, vector in zip(args.texts, vectors, strict=True):
        print(f"  {text[:40]!r:44} {np.array2string(vector[:4], precision=4)} ...")
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    print("cosine similarities:")
    print(np.array2string(unit @ unit.T, precision=3))

    print("streaming:")
    stream(client, args.model, args.texts)
    client.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
