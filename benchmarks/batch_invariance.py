"""How much a text's vector moves with its batch-mates, and what exactness costs, per precision.

    .venv/bin/python benchmarks/batch_invariance.py [--rounds 3]

For the fp32 and the int8 export of the default model, and each set of precision properties
(the plugin default, f32, f32 without dynamic quantization, the default precision without it),
it prints what the compiled model runs (read back), the largest per-component difference and
the smallest cosine between a text embedded in padded batches of mixed lengths and the same text
alone, and the speed: tokens/s for 32 texts x 128 tokens and milliseconds for one 8-token text,
measured round-robin in ABBA order so that machine drift moves every row alike.

The figures back the bounds of `ovserve.runtime.execution` and README's batching paragraph.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # `tests.support` and `ovserve` when run from any directory

import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402
from raw_model import RawEmbedder, graph_files  # noqa: E402

from ovserve.runtime.execution import Execution, describe_cpu  # noqa: E402
from tests.support.models import exported_workspace, graph_dir  # noqa: E402

TEXTS = (
    "",
    " ",
    "Short",
    "hello world",
    "goodbye world",
    "Hello, world!",
    "The quick brown fox jumps over the lazy dog.",
    "Crème brûlée, déjà vu, naïve façade, Ångström, São Paulo.",
    "日本語のテキストを埋め込みます。",
    "مرحبا بالعالم",
    "Emoji time 😀🚀🎉 and more 👍🏽",
    "def add(a, b):\n    return a + b  # code",
    "UPPER lower MiXeD case",
    "Numbers 3.14159 and 2.71828 and 42.",
    "What is the capital of France? Paris is.",
    "Sentence embeddings map text to vectors. " * 4,
    "a " * 200,
    " ".join(f"word{i} of a long document about embeddings" for i in range(60)),
)
SETTINGS: dict[str, dict[str, str]] = {
    "plugin default": {},
    "f32": {"INFERENCE_PRECISION_HINT": "f32"},
    "f32, no dyn-quant": {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"},
    "default, no dyn-quant": {"DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"},
}


@dataclass
class Case:
    name: str
    embedder: RawEmbedder
    execution: Execution
    max_abs: float = 0.0
    min_cosine: float = 1.0
    tokens_per_second: list[float] | None = None
    one_text_ms: list[float] | None = None


def invariance(embedder: RawEmbedder, seed: int = 0) -> tuple[float, float]:
    """Largest |batched - alone| and smallest cosine over the whole set in one batch and in
    three shuffles of it cut into batches of 4 and of 8."""
    request = embedder.new_request()
    alone = {text: embedder.embed([text], request)[0][0] for text in TEXTS}
    batches: list[list[str]] = [list(TEXTS)]
    rng = random.Random(seed)
    for size in (4, 8):
        for _ in range(3):
            order = list(TEXTS)
            rng.shuffle(order)
            batches += [order[i : i + size] for i in range(0, len(order), size)]
    worst_abs, worst_cos = 0.0, 1.0
    for batch in batches:
        vectors, _ = embedder.embed(batch, request)
        for text, vector in zip(batch, vectors, strict=True):
            reference = alone[text]
            worst_abs = max(worst_abs, float(np.abs(vector - reference).max()))
            cosine = float(
                np.dot(vector.astype(np.float64), reference) / max(np.linalg.norm(reference), 1e-12)
            )
            worst_cos = min(worst_cos, cosine)
    return worst_abs, worst_cos


def feeds(embedder: RawEmbedder, rows: int, tokens: int) -> dict[str, np.ndarray]:
    ids = np.random.default_rng(0).integers(1000, 20000, (rows, tokens)).astype(np.int64)
    named = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    wanted = {port.get_any_name() for port in embedder.model.inputs}
    return {name: value for name, value in named.items() if name in wanted}


def speed(embedder: RawEmbedder) -> tuple[float, float]:
    """Tokens/s at 32 x 128 and ms for one 8-token row, one synchronous request."""
    request = embedder.new_request()
    big, small = feeds(embedder, 32, 128), feeds(embedder, 1, 8)
    request.infer(big)
    started = time.perf_counter()
    for _ in range(3):
        request.infer(big)
    tokens_per_second = 3 * 32 * 128 / (time.perf_counter() - started)
    for _ in range(5):
        request.infer(small)
    started = time.perf_counter()
    for _ in range(40):
        request.infer(small)
    return tokens_per_second, (time.perf_counter() - started) / 40 * 1e3


def measure(cases: Sequence[Case], rounds: int) -> None:
    for case in cases:
        case.max_abs, case.min_cosine = invariance(case.embedder)
        case.tokens_per_second, case.one_text_ms = [], []
    for _ in range(rounds):
        for case in [*cases, *reversed(cases)]:  # ABBA
            tps, ms = speed(case.embedder)
            assert case.tokens_per_second is not None
            assert case.one_text_ms is not None
            case.tokens_per_second.append(tps)
            case.one_text_ms.append(ms)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="ABBA speed rounds (default 3)")
    args = parser.parse_args(argv)
    core = ov.Core()
    print(f"CPU: {describe_cpu(core)}")
    cases: list[Case] = []
    for weights in ("fp32", "int8"):
        files = graph_files(graph_dir(exported_workspace(weights)))
        seen: set[Execution] = set()
        for setting, properties in SETTINGS.items():
            embedder = RawEmbedder(files, {"NUM_STREAMS": "1", **properties}, core)
            execution = Execution.of(embedder.model, core.read_model(str(files.model_xml)))
            if execution in seen:
                continue  # dynamic quantization settings change nothing for fp32 weights
            seen.add(execution)
            cases.append(Case(f"{weights} IR, {setting}", embedder, execution))
    measure(cases, args.rounds)
    header = (
        f"{'IR, properties':34} {'runs':48} {'max |Δ|':>9} {'min cos':>9} {'tok/s 32x128':>13} {'ms 1x8':>7}"
    )
    print(header)
    for case in cases:
        assert case.tokens_per_second
        assert case.one_text_ms
        print(
            f"{case.name:34} {case.execution.describe():48.48} {case.max_abs:9.2e} {case.min_cosine:9.6f} "
            f"{statistics.median(case.tokens_per_second):13.0f} {statistics.median(case.one_text_ms):7.2f}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
