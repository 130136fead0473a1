"""Pooling at the model's output against pooling and normalize nodes: time per request, in-process.

    .venv/bin/python benchmarks/pooled_output.py [--requests 400] [--shapes 1x8,32x128]

Two graphs over one export (the flat int8 export of the tests, at `{"NUM_STREAMS": 1}`):
`graphs/embeddings/graph.pbtxt` as written (feature extraction → pooling → normalize, the
`[N, L, D]` hidden states copied out of the infer request and handed between nodes), and the
same graph as the OVMS forms expand it (the feature-extraction node's `EMBEDDINGS` output,
pooled and normalized at the model's output). Each request runs alone through `Graph.run_sync`
on this thread, as a lone request runs in the server, and the two graphs take turns request by
request in ABBA order, so a machine whose speed drifts (benchmarks/README.md) moves both alike.

Printed per shape (texts x tokens): the median wall time per request of each graph and the
median of the paired differences, and the process CPU time per request (every thread: the
model's own threads too).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ovserve.graph.formats.embeddings import EmbeddingsInput, EmbeddingsRequest  # noqa: E402
from ovserve.graph.runner import Graph  # noqa: E402
from tests.calculators.support import NATIVE_GRAPH, load_text_graph, pooled_at_output  # noqa: E402
from tests.support.models import exported_workspace, graph_dir  # noqa: E402

PLUGIN_CONFIG = '{"NUM_STREAMS": 1}'


def graph_texts() -> dict[str, str]:
    native = NATIVE_GRAPH.read_text()
    pinned = next(line for line in native.splitlines() if "plugin_config:" in line)
    native = native.replace(pinned, f"      plugin_config: '{PLUGIN_CONFIG}'")
    return {"pooling nodes": native, "pooled at output": pooled_at_output(native)}


def request_of(texts: int, tokens: int) -> EmbeddingsRequest:
    # "word" is one BERT token; [CLS] and [SEP] make up the rest.
    return EmbeddingsRequest(
        input=EmbeddingsInput(texts=tuple(" ".join(["word"] * (tokens - 2)) for _ in range(texts)))
    )


def timed(graph: Graph, request: EmbeddingsRequest) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    graph.run_sync({"input": request})
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="timed requests per graph and shape")
    parser.add_argument("--shapes", default="1x8,32x128", help="texts x tokens per request")
    args = parser.parse_args()
    base = graph_dir(exported_workspace("int8", "flat", truncate=True))
    with tempfile.TemporaryDirectory() as tmp:
        graphs: dict[str, Graph] = {}
        for i, (name, text) in enumerate(graph_texts().items()):
            folder = Path(tmp) / str(i)  # one graph.pbtxt per folder
            folder.mkdir()
            graphs[name] = load_text_graph(folder, text, base)
        try:
            first, second = graphs.values()
            print(f"{base.name}, plugin_config {PLUGIN_CONFIG}; {args.requests} requests per graph, ABBA")
            for shape in args.shapes.split(","):
                texts, tokens = (int(n) for n in shape.split("x"))
                request = request_of(texts, tokens)
                for graph in (first, second):
                    for _ in range(20):  # warm-up: the shape compiled, caches and pools filled
                        graph.run_sync({"input": request})
                walls: dict[str, list[float]] = {name: [] for name in graphs}
                cpus: dict[str, list[float]] = {name: [] for name in graphs}
                for i in range(args.requests):
                    order = list(graphs.items()) if i % 2 == 0 else list(graphs.items())[::-1]
                    for name, graph in order:
                        wall, cpu = timed(graph, request)
                        walls[name].append(wall)
                        cpus[name].append(cpu)
                names = list(graphs)
                diffs = [b - a for a, b in zip(walls[names[0]], walls[names[1]], strict=True)]
                print(f"{texts} x {tokens} tokens:")
                for name in names:
                    print(
                        f"  {name:17s} {statistics.median(walls[name]) * 1e3:8.3f} ms wall (median), "
                        f"{statistics.fmean(cpus[name]) * 1e3:8.3f} ms CPU per request"
                    )
                gap = statistics.median(diffs) * 1e3
                print(f"  {names[1]} - {names[0]}: {gap:+.3f} ms wall (median of pairs)")
        finally:
            for graph in graphs.values():
                graph.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
