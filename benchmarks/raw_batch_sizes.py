"""What W2's batch size costs the model alone: raw OpenVINO CPU per text at 64 and at 32 rows.

    .venv/bin/python benchmarks/raw_batch_sizes.py [--rows 64,32] [--seconds 3] [--rounds 3]

W2's overhead (benchmarks/README.md) is the server's CPU per request minus raw's CPU per text
at batch 64. Under W2's 64 closed-loop clients a server with one infer request runs batches of
about half that: while one batch infers, the other half of the clients are being answered,
sending, or tokenized, and a wait for them was measured to gain nothing (the lever table). So
part of the overhead is what smaller batches cost the model itself, with no server at all.

This measures it on the workspace `compare.py` serves (the int8 export at its
`plugin_config`), two ways, each row size in ABBA order within a round:

* `embed`: as `compare.py`'s raw rows (`raw_runs.measure_throughput`): tokenize, infer and
  pool W2's 8-token texts on one thread, again and again (the model's other thread waits
  while this one tokenizes and pools, as it does in the server between batches);
* `infer only`: the same inputs tokenized once, then only the infer call, back to back.

Printed per round: texts/s and process CPU ms per text of each; then each row size's best
(lowest) CPU per text over the rounds, and the difference to the first row size.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from raw_model import RawEmbedder, graph_files  # noqa: E402
from raw_runs import measure_throughput  # noqa: E402
from workloads import served_workspace  # noqa: E402

from ovserve.bench import synthetic_documents  # noqa: E402
from tests.support.models import graph_dir  # noqa: E402

TOKENS = 8


def infer_only(embedder: RawEmbedder, texts: list[str], seconds: float) -> tuple[float, float]:
    """(texts/s, CPU ms per text) of the infer call alone on `texts`, tokenized once."""
    request = embedder.new_request()
    inputs = embedder.tokenize(texts)
    request.infer(inputs)  # warm the shape
    calls = 0
    begin, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - begin < seconds:
        request.infer(inputs)
        calls += 1
    elapsed, used = time.perf_counter() - begin, time.process_time() - cpu
    return calls * len(texts) / elapsed, 1000.0 * used / (calls * len(texts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="64,32", help="rows per batch, comma-separated")
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each timed run")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(n) for n in args.rows.split(",")]
    config = served_workspace()
    files = graph_files(graph_dir(config))
    embedder = RawEmbedder(files, dict(files.plugin_config))
    texts = synthetic_documents(max(sizes), TOKENS)
    print(f"{files.model_xml.parent}, plugin_config {files.plugin_config}, precision {embedder.precision}")
    best: dict[tuple[str, int], float] = {}
    for round_ in range(1, args.rounds + 1):
        for size in sizes + sizes[::-1]:
            batch = texts[:size]
            rate, _, embed_cpu = measure_throughput(embedder, batch, args.seconds)
            only_rate, only_cpu = infer_only(embedder, batch, args.seconds)
            for way, cpu in (("embed", embed_cpu), ("infer only", only_cpu)):
                best[way, size] = min(cpu, best.get((way, size), cpu))
            print(
                f"round {round_}, {size:3d} rows: embed {rate:6.0f} texts/s {embed_cpu:.3f} ms CPU per text; "
                f"infer only {only_rate:6.0f} texts/s {only_cpu:.3f} ms",
                flush=True,
            )
    for way in ("embed", "infer only"):
        first = best[way, sizes[0]]
        cells = (f"{size} rows {best[way, size]:.3f} ({best[way, size] - first:+.3f})" for size in sizes)
        line = ", ".join(cells)
        print(f"best CPU ms per text, {way}: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
