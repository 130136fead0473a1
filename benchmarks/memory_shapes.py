"""Server RSS under requests of random lengths, per memory setting (issue 8, item 3).

    .venv/bin/python benchmarks/memory_shapes.py [--requests 2000] [--clients 4]
        [--variants default,pad0,cache0,pad0+cache0,off] [--weight-format int8]

For each variant a fresh `python -m ovserve` serves a copy of the cached export (max length
512) while `--clients` clients send `--requests` single-text requests of 1-512 random tokens
(the same texts for every variant); VmRSS is sampled every 0.25 s. Variants:

* `default`: batching with the server defaults (buckets of `pad_to_multiple_of` 16);
* `padN`: `BatchSettings.pad_to_multiple_of` N (0: no padding);
* `cacheN`: `CPU_RUNTIME_CACHE_CAPACITY=N` added to the embeddings model's plugin_config;
* `off`: batching off (one inference per request);
* combine with `+`.

Printed per variant: RSS when ready, peak, at the end, the growth over the second half of the
run (least squares, MiB per 1,000 requests) and the throughput. The batching defaults are the
server's flags (`--no-batching`, `--pad_to_multiple_of`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from ovserve.bench import LoadConfig, random_length_documents, run_load, summarize  # noqa: E402
from tests.support.models import copy_workspace, exported_workspace, graph_dir  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def parse_variant(name: str) -> tuple[list[str], dict[str, str]]:
    """(the server's batching flags, extra plugin_config) of a variant name."""
    batching: list[str] = []
    plugin: dict[str, str] = {}
    for part in name.split("+"):
        if part == "off":
            batching.append("--no-batching")
        elif part.startswith("pad"):
            batching += ["--pad_to_multiple_of", str(int(part[3:]))]
        elif part.startswith("cache"):
            plugin["CPU_RUNTIME_CACHE_CAPACITY"] = part[5:]
        elif part != "default":
            raise SystemExit(f"unknown variant part {part!r}")
    return batching, plugin


def prepare(config: Path, tmp: Path, plugin: dict[str, str]) -> Path:
    """A workspace copy whose embeddings model compiles with `plugin` added."""
    copied = copy_workspace(config, tmp / "workspace")
    subconfig = graph_dir(copied) / "subconfig.json"
    data = json.loads(subconfig.read_text())
    for entry in data["model_config_list"]:
        if entry["config"]["name"].endswith("_embeddings_model"):
            entry["config"].setdefault("plugin_config", {}).update(plugin)
    subconfig.write_text(json.dumps(data, indent=2))
    return copied


async def wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    import aiohttp

    deadline = time.monotonic() + 240.0
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/v2/health/ready") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.25)
    raise RuntimeError("server not ready")


def start_server(launcher: str, log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log:
        return subprocess.Popen([sys.executable, "-c", launcher], cwd=REPO, stdout=log, stderr=log)


async def measure(name: str, config: Path, texts: list[str], clients: int) -> dict[str, object]:
    batching, plugin = parse_variant(name)
    with tempfile.TemporaryDirectory(prefix="ovserve-mem-") as tmp:
        workspace = prepare(config, Path(tmp), plugin)
        port = free_port()
        launcher = (
            "import sys\n"
            "from ovserve.cli import main\n"
            f"sys.argv = ['ovserve', '--config_path', {str(workspace)!r}, '--rest_port', '{port}',"
            f" '--file_system_poll_wait_seconds', '0', '--log_level', 'WARNING', *{batching!r}]\n"
            "raise SystemExit(main())\n"
        )
        proc = start_server(launcher, Path(tmp) / "server.log")
        try:
            await wait_ready(port, proc)
            ready = rss_mib(proc.pid) or 0.0
            samples: list[tuple[int, float]] = []
            done = [0]

            async def sample() -> None:
                while True:
                    value = rss_mib(proc.pid)
                    if value is not None:
                        samples.append((done[0], value))
                    await asyncio.sleep(0.25)

            url = f"http://127.0.0.1:{port}/v3/embeddings"
            load = LoadConfig(api_url=url, model=MODEL, concurrency=clients)
            sampler = asyncio.create_task(sample())
            # Progress through the bench's own hook would couple us to its internals; chunks do.
            results = []
            chunk = max(1, len(texts) // 20)
            for start in range(0, len(texts), chunk):
                results.append(await run_load([[t] for t in texts[start : start + chunk]], load))
                done[0] = start + chunk
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    failed = sum(summarize(r).failed for r in results)
    wall = sum(r.wall_seconds for r in results)
    tokens = sum(summarize(r).tokens or 0 for r in results)
    half = [(n, v) for n, v in samples if n >= len(texts) / 2]
    growth = 0.0
    if len(half) >= 2:
        xs, ys = [float(n) for n, _ in half], [v for _, v in half]
        mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
        var = sum((x - mx) ** 2 for x in xs)
        growth = 1000.0 * sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var if var else 0.0
    return {
        "variant": name,
        "ready_mib": round(ready),
        "peak_mib": round(max(v for _, v in samples)),
        "half_mib": round(half[0][1]) if half else None,
        "end_mib": round(samples[-1][1]),
        "second_half_mib_per_1000_req": round(growth, 1),
        "tokens_per_s": round(tokens / wall) if wall else 0,
        "failed": failed,
    }


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--clients", type=int, default=4)
    p.add_argument("--variants", default="default,pad0,cache0,pad0+cache0,off")
    p.add_argument("--weight-format", default="int8")
    args = p.parse_args()
    config = exported_workspace(args.weight_format, max_length=512)
    texts = random_length_documents(args.requests, 1, 512, seed=1)
    for name in args.variants.split(","):
        print(json.dumps(asyncio.run(measure(name, config, texts, args.clients))), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
