"""Rerank workload R1: ovserve's `/v3/rerank` against raw OpenVINO on the same model, in one run.

    .venv/bin/python benchmarks/rerank_bench.py [--quick] [--weight-format fp32|int8]
        [--pad_to_multiple_of N]

R1 is one query against 32 documents of ~128 tokens per request. The model has the size of
`cross-encoder/ms-marco-MiniLM-L-6-v2` (BERT, 6 layers, hidden 384): the default model's
encoder under a one-label classification head with seeded random weights (no rerank model
ships on the package registry), exported by `ovserve export rerank_ov`, so speed is that of a
real MiniLM cross-encoder while its scores mean nothing.

* raw: the compiled model in this process, its `OPTIMAL_NUMBER_OF_INFER_REQUESTS` threads each
  running the request's 32 pairs, or two requests' 64 (what ovserve's batcher may merge; the
  better of the two counts), already tokenized (the tokenizer's time is not counted: a strict
  bound);
* ovserve: `python -m ovserve` on the exported workspace, fed by `ovserve.bench.run_load`
  with 4 requests in flight.

The two run in ABBA order (raw, ovserve, ovserve, raw; twice unless --quick), each keeps its
best round, and the ratio of ovserve's documents per second to raw's is printed with the CPU
per request of both (raw: this process's). Both compile the model with the graph's own
plugin_config (f32 for fp32 weights).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # `tests.support` and `ovserve` when run from any directory

import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402
from machine import cpu_line, load_average  # noqa: E402
from processes import cpu_seconds, ovserve_server  # noqa: E402

from ovserve.bench import LoadConfig, run_load, summarize, synthetic_documents  # noqa: E402
from tests.support.models import cached_build, copy_workspace, default_model_source  # noqa: E402

QUERY = "what is the capital city of france and where is it"
DOCUMENTS = 32
DOCUMENT_TOKENS = 128
CONCURRENCY = 4
GRAPH = "rerank/minilm"
TARGET = 0.9


def minilm_cross_encoder() -> Path:
    """The default model's BERT encoder under a seeded one-label head, saved with its tokenizer."""

    def build(folder: Path) -> None:
        import torch
        from transformers import AutoTokenizer, BertForSequenceClassification

        torch.manual_seed(0)
        source = default_model_source()
        model = BertForSequenceClassification.from_pretrained(str(source), num_labels=1)
        model.save_pretrained(folder)
        tokenizer = AutoTokenizer.from_pretrained(str(source))
        tokenizer.model_max_length = 512
        tokenizer.save_pretrained(str(folder))

    return cached_build("bench-cross-encoder-minilm-1", "tokenizer_config.json", build)


def exported(weight_format: str) -> Path:
    """The `config.json` of a flat (`rerank_ov`) export of `minilm_cross_encoder()`."""

    def build(staging: Path) -> None:
        from ovserve.export import ExportOptions
        from ovserve.export.rerank import export_rerank

        options = ExportOptions(
            source_model=minilm_cross_encoder(),
            model_name=GRAPH,
            model_repository_path=staging,
            config_file_path=staging / "config.json",
            weight_format=weight_format,
            layout="flat",
        )
        export_rerank(options)

    return cached_build(f"bench-rerank-minilm-{weight_format}-1", "config.json", build) / "config.json"


def plugin_config(graph_dir: Path) -> dict[str, str]:
    """The properties the graph compiles its model with (its `plugin_config` option)."""
    text = (graph_dir / "graph.pbtxt").read_text()
    found = re.search(r"plugin_config: '([^']*)'", text)
    return {k: str(v) for k, v in json.loads(found.group(1)).items()} if found else {}


def raw_inputs(graph_dir: Path, documents: list[str]) -> dict[str, np.ndarray]:
    """The pairs of one request tokenized as the model's own HF tokenizer pairs them."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(minilm_cross_encoder()))
    batch = tokenizer([[QUERY, d] for d in documents], padding=True, truncation=True, return_tensors="np")
    return {key: np.asarray(value, dtype=np.int64) for key, value in batch.items()}


def raw_round(
    compiled: ov.CompiledModel, inputs: dict[str, np.ndarray], seconds: float
) -> tuple[float, float]:
    """(documents per second, this process's CPU ms per document) of `inputs` inferred again
    and again by the optimal number of threads."""
    workers = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
    names = {port.get_any_name() for port in compiled.inputs}
    feed = {name: value for name, value in inputs.items() if name in names}
    counts = [0] * workers
    start, stop = threading.Barrier(workers + 1), threading.Event()

    def work(slot: int) -> None:
        request = compiled.create_infer_request()
        request.infer(feed)
        start.wait()
        while not stop.is_set():
            request.infer(feed)
            counts[slot] += len(inputs["input_ids"])

    threads = [threading.Thread(target=work, args=(slot,)) for slot in range(workers)]
    for thread in threads:
        thread.start()
    start.wait()
    begin, cpu = time.perf_counter(), time.process_time()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    done = max(1, sum(counts))
    return done / (time.perf_counter() - begin), 1000.0 * (time.process_time() - cpu) / done


async def ovserve_round(
    port: int, pid: int, documents: list[str], seconds: float, rate: float
) -> tuple[float, float]:
    """(documents per second, server CPU ms per request) under `CONCURRENCY` clients, for about
    `seconds` at `rate` documents per second (raw's: the round lasts about as long as raw's)."""
    requests = max(4 * CONCURRENCY, round(seconds * rate / len(documents)))
    config = LoadConfig(
        api_url=f"http://127.0.0.1:{port}/v3/rerank", model=GRAPH, concurrency=CONCURRENCY, query=QUERY
    )
    await run_load([documents] * CONCURRENCY, config)  # warm the shapes
    cpu0 = cpu_seconds(pid) or 0.0
    summary = summarize(await run_load([documents] * requests, config))
    cpu1 = cpu_seconds(pid) or 0.0
    if summary.succeeded != requests:
        raise RuntimeError(f"ovserve failed {requests - summary.succeeded} requests: {summary.errors}")
    return summary.documents_per_second, 1000.0 * (cpu1 - cpu0) / requests


@dataclass(frozen=True)
class R1Result:
    """The best raw and ovserve rounds of one R1 run."""

    raw_documents_per_second: float
    raw_cpu_ms: float
    """Raw's process CPU per request's worth of documents (its best round)."""
    documents_per_second: float
    cpu_ms: float
    """ovserve's server CPU per request (its best round)."""
    precision: str
    pair_tokens: int

    @property
    def ratio(self) -> float:
        return self.documents_per_second / self.raw_documents_per_second

    @property
    def meets(self) -> bool:
        return self.ratio >= TARGET


async def measure_r1(weight_format: str, *, quick: bool, pad_to_multiple_of: int | None = None) -> R1Result:
    """Run R1 in ABBA order (raw, ovserve, ovserve, raw; twice unless `quick`), printing each
    round; the best round of each side counts."""
    config = exported(weight_format)
    graph_dir = config.parent / GRAPH
    documents = synthetic_documents(DOCUMENTS, DOCUMENT_TOKENS, seed=19)
    properties = plugin_config(graph_dir)
    compiled = ov.Core().compile_model(str(graph_dir / "openvino_model.xml"), "CPU", properties)
    precision = str(compiled.get_property("INFERENCE_PRECISION_HINT"))
    inputs = raw_inputs(graph_dir, documents)
    feeds = [inputs, {name: np.concatenate([value, value]) for name, value in inputs.items()}]
    pair_tokens = int(inputs["input_ids"].shape[1])
    print(
        f"R1 ({weight_format}): 1 query x {DOCUMENTS} documents, pairs of {pair_tokens} tokens; {precision}"
    )
    seconds = 4.0 if quick else 12.0
    raw: list[tuple[float, float]] = []
    served: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory(prefix="ovserve-rerank-bench-") as tmp:
        workspace = copy_workspace(config, Path(tmp) / "workspace")
        flags = [] if pad_to_multiple_of is None else ["--pad_to_multiple_of", str(pad_to_multiple_of)]
        server, port, _ = ovserve_server(workspace, Path(tmp) / "ovserve.log", grpc=False, flags=flags)
        async with server:
            # ABBA, twice unless quick: best-of over more rounds moves less with the VM's noise.
            for step in ("raw", "ovserve", "ovserve", "raw") * (1 if quick else 2):
                if step == "raw":
                    rounds = [
                        await asyncio.to_thread(raw_round, compiled, feed, seconds / 2) for feed in feeds
                    ]
                    raw.append(max(rounds))
                    print(f"  raw: {raw[-1][0]:.1f} documents/s", flush=True)
                else:
                    rate = raw[-1][0]
                    served.append(await ovserve_round(port, server.pid, documents, seconds, rate))
                    print(
                        f"  ovserve: {served[-1][0]:.1f} documents/s, {served[-1][1]:.1f} ms CPU/request",
                        flush=True,
                    )
    best_raw, raw_cpu_per_document = max(raw)
    best_served, cpu_ms = max(served)
    return R1Result(
        raw_documents_per_second=best_raw,
        raw_cpu_ms=raw_cpu_per_document * DOCUMENTS,
        documents_per_second=best_served,
        cpu_ms=cpu_ms,
        precision=precision,
        pair_tokens=pair_tokens,
    )


async def run(args: argparse.Namespace) -> int:
    print(f"CPU: {cpu_line()}\nOpenVINO {ov.get_version()}")
    print(f"load average before: {load_average()}")
    r1 = await measure_r1(args.weight_format, quick=args.quick, pad_to_multiple_of=args.pad_to_multiple_of)
    verdict = "meets" if r1.meets else "misses"
    print(
        f"\nR1 {args.weight_format}: ovserve {r1.documents_per_second:.1f} / raw "
        f"{r1.raw_documents_per_second:.1f} documents/s = {r1.ratio:.2f}x raw"
    )
    print(
        f"({verdict} the >= {TARGET}x target); CPU per request: ovserve {r1.cpu_ms:.1f} ms, raw "
        f"{r1.raw_cpu_ms:.1f} ms; load {load_average()}"
    )
    return 0


def main() -> int:
    p = argparse.ArgumentParser(description="rerank R1: ovserve /v3/rerank vs raw OpenVINO (ABBA)")
    p.add_argument("--quick", action="store_true", help="4 s rounds instead of 12 s")
    p.add_argument("--weight-format", choices=("fp32", "int8"), default="fp32")
    p.add_argument(
        "--pad_to_multiple_of", type=int, help="the server's length buckets (default: the server's default)"
    )
    return asyncio.run(run(p.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
