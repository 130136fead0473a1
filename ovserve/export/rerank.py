"""`export_rerank`: one local HF cross-encoder folder -> one rerank graph in an OVMS workspace.

What it writes follows OVMS's `export_model.py rerank` (versioned layout) and `rerank_ov`
(flat layout): the model exported by optimum-intel for `text-classification`, and the
tokenizer converted without special tokens (`add_special_tokens=False`) with its cut at
`max_doc_length`, as OVMS converts it. The graph adds the model's own special tokens itself
when it builds the (query, document) pairs, from the template recorded here
(`ovserve_pair_template`, below), so both OVMS and ovserve can serve the tree.

Keys written into both IRs' `model_info` rt_info, besides the source's `config.json` (model)
and `tokenizer_config.json` (tokenizer) keys as OVMS writes them:

`ovserve_pair_template` (JSON `{"ids": [...], "types": [...]}`)
    The pair layout of the source tokenizer: token ids with -1 where the query's tokens go
    and -2 where the document's go, and the token type of every position (the content
    positions' type applies to all their tokens). BERT: ids `[101, -1, 102, -2, 102]`, types
    `[0, 0, 0, 1, 1]`; XLM-R: `[0, -1, 2, 2, -2, 2]`, all 0.
`ovserve_max_length` (decimal int)
    M, the longest pair in tokens including special tokens: `--max_length`, else the source
    tokenizer's `model_max_length` within the positional limit (what `CrossEncoder` cuts at).

Everything that can be refused is refused before the slow conversion starts.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Final

from ovserve.errors import ConfigError, Unavailable
from ovserve.export import config_file, convert, rerank_layouts, workspace_fs
from ovserve.export.hf_model import SourceModel, read_source_model
from ovserve.export.options import ExportOptions, ExportResult
from ovserve.runtime import rt_info
from ovserve.runtime.positions import usable_positions

STEPS = 5
DEFAULT_MAX_DOC_LENGTH: Final = 16000
"""OVMS's `--max_doc_length` default: the tokenizer's cut, in tokens."""
KEY_PAIR_TEMPLATE: Final = rt_info.KEY_PAIR_TEMPLATE
QUERY_SLOT: Final = rt_info.PAIR_QUERY_SLOT
DOCUMENT_SLOT: Final = rt_info.PAIR_DOCUMENT_SLOT
_OVERWRITE_HINT = "pass --overwrite_models to replace it"


def export_rerank(
    options: ExportOptions,
    *,
    max_doc_length: int = DEFAULT_MAX_DOC_LENGTH,
    progress: Callable[[str], None] = lambda _: None,
) -> ExportResult:
    """Run one rerank export; `options.layout` picks versioned (`rerank`) or flat (`rerank_ov`).

    Of `options`, pooling, normalize and truncate do not apply; `max_length` overrides M.

    Raises:
        ConfigError: a refusal (bad flag, not a sequence-classification folder, existing
            target without `overwrite_models`, unwritable path); nothing was written.
        Unavailable: the export stack is missing.
    """
    start = time.monotonic()

    def step(index: int, text: str) -> None:
        progress(f"[{index}/{STEPS}] +{time.monotonic() - start:.1f}s {text}")

    options = options.validated()
    if max_doc_length < 1:
        raise ConfigError(f"--max_doc_length must be a positive integer, got {max_doc_length}")
    step(1, f"reading {options.source_model}")
    source = read_source_model(options.source_model)
    _check_classifier(source)
    max_length = _max_length(options, source)
    quantization = convert.parse_extra_quantization_params(
        options.extra_quantization_params, options.weight_format
    )
    _check_targets(options)
    config_file.check_config_file(options.config_file)
    plugin_config = {"NUM_STREAMS": str(options.num_streams), **options.precision_properties}

    options.model_repository_path.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ovserve-export-", dir=options.model_repository_path))
    try:
        ir_dir = staging / "new"
        ir_dir.mkdir()
        model_xml, tokenizer_xml = _ir_paths(ir_dir, options.layout)
        keys = {
            rt_info.KEY_EXPORT_SCHEMA: rt_info.EXPORT_SCHEMA,
            rt_info.KEY_MAX_LENGTH: str(max_length),
            rt_info.KEY_WEIGHT_FORMAT: options.weight_format,
            rt_info.KEY_INFERENCE_PRECISION_HINT: options.inference_precision_hint or "",
        }
        step(2, f"converting tokenizer (documents cut at {max_doc_length} tokens) ...")
        keys[KEY_PAIR_TEMPLATE] = export_pair_tokenizer(
            source,
            tokenizer_xml,
            max_doc_length=max_doc_length,
            keys=keys,
            save_hf_to=ir_dir if options.layout == "flat" else None,
        )
        step(3, f"exporting model ({options.weight_format}) ...")
        _export_classifier(source, model_xml, options.weight_format, quantization, keys)
        step(4, f"writing {options.layout} layout into {options.graph_dir}")
        if options.layout == "flat":
            for name in rerank_layouts.FLAT_COPIED_FILES:
                if (source.path / name).is_file() and not (ir_dir / name).exists():
                    shutil.copyfile(source.path / name, ir_dir / name)
            graph = rerank_layouts.flat_graph(
                target_device=options.target_device, plugin_config=plugin_config
            )
            (ir_dir / "graph.pbtxt").write_text(graph, encoding="utf-8")
            workspace_fs.install_flat(ir_dir, options.graph_dir, staging)
        else:
            _install_versioned(ir_dir, options, staging)
            workspace_fs.write_text_atomically(
                options.graph_dir / "graph.pbtxt", rerank_layouts.versioned_graph(options.graph_name)
            )
            subconfig = rerank_layouts.subconfig(
                options.graph_name, target_device=options.target_device, plugin_config=plugin_config
            )
            workspace_fs.write_text_atomically(
                options.graph_dir / "subconfig.json", json.dumps(subconfig, indent=4) + "\n"
            )
        base_path = config_file.base_path_for(options.config_file, options.graph_dir)
        step(5, f"updating {options.config_file} ({options.graph_name} -> {base_path})")
        config_file.update_config_file(options.config_file, options.graph_name, base_path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(
        graph_name=options.graph_name,
        graph_dir=options.graph_dir,
        config_file=options.config_file,
        layout=options.layout,
        version=options.version,
        weight_format=options.weight_format,
        pooling="",
        max_length=max_length,
        tokenizer_max_length=max_doc_length,
        max_position_embeddings=source.max_position_embeddings,
        plugin_config=plugin_config,
        seconds=time.monotonic() - start,
    )


def pair_template(hf_tokenizer: Any) -> dict[str, list[int]]:
    """The pair layout of a HF tokenizer (see the module doc), found by tokenizing a probe pair.

    Raises:
        ConfigError: the tokenizer's pair output does not contain the two texts' own tokens.
    """
    first = list(hf_tokenizer("a", add_special_tokens=False)["input_ids"])
    second = list(hf_tokenizer("b", add_special_tokens=False)["input_ids"])
    pair = hf_tokenizer("a", "b", return_token_type_ids=True)
    ids = list(pair["input_ids"])
    types = list(pair.get("token_type_ids") or [0] * len(ids))
    i = _find(ids, first, 0)
    j = _find(ids, second, i + len(first)) if i >= 0 else -1
    if i < 0 or j < 0:
        raise ConfigError(
            "the tokenizer's pair encoding does not hold its texts' tokens; cannot rerank with it"
        )
    tail = j + len(second)
    return {
        "ids": [*ids[:i], QUERY_SLOT, *ids[i + len(first) : j], DOCUMENT_SLOT, *ids[tail:]],
        "types": [*types[:i], types[i], *types[i + len(first) : j], types[j], *types[tail:]],
    }


def export_pair_tokenizer(
    source: SourceModel,
    xml_path: Path,
    *,
    max_doc_length: int,
    keys: dict[str, str],
    save_hf_to: Path | None,
) -> str:
    """Convert the tokenizer without special tokens, cut at `max_doc_length`, with `keys` and
    the pair template in its rt_info; return the template's JSON text. With `save_hf_to`, the
    HF tokenizer is saved there too (the flat layout, as OVMS)."""
    ov, openvino_tokenizers, auto_tokenizer = convert._import_tokenizer_stack()
    with convert._quiet_third_party():
        hf_tokenizer = auto_tokenizer.from_pretrained(str(source.path))
        template = pair_template(hf_tokenizer)
        convert._whitespace_split_as_normalization(hf_tokenizer)
        hf_tokenizer.model_max_length = max_doc_length  # as OVMS's export saves it
        tokenizer = openvino_tokenizers.convert_tokenizer(
            hf_tokenizer, add_special_tokens=False, truncation=True, max_length=max_doc_length
        )
        if save_hf_to is not None:
            hf_tokenizer.save_pretrained(str(save_hf_to))
    text = json.dumps(template)
    rt_info.write_model_info(tokenizer, source.tokenizer_config, {**keys, KEY_PAIR_TEMPLATE: text})
    ov.save_model(tokenizer, str(xml_path))
    return text


def _find(haystack: Sequence[int], needle: Sequence[int], start: int) -> int:
    for k in range(start, len(haystack) - len(needle) + 1):
        if list(haystack[k : k + len(needle)]) == list(needle):
            return k
    return -1


def _check_classifier(source: SourceModel) -> None:
    architectures = source.config.get("architectures") or []
    if not any(str(a).endswith("ForSequenceClassification") for a in architectures):
        raise ConfigError(
            f"--source_model {source.path}: not a sequence-classification (cross-encoder) model "
            f"(architectures {architectures})"
        )


def _max_length(options: ExportOptions, source: SourceModel) -> int:
    limit = usable_positions(source.config, source.max_position_embeddings)
    if options.max_length is not None:
        if limit is not None and options.max_length > limit:
            raise ConfigError(
                f"--max_length {options.max_length} exceeds the model's positional limit {limit}"
            )
        return options.max_length
    candidates = [v for v in (source.tokenizer_max_length, limit) if v is not None]
    if not candidates:
        raise ConfigError(
            f"{source.path}: no model_max_length or max_position_embeddings found; pass --max_length"
        )
    return min(candidates)


def _check_targets(options: ExportOptions) -> None:
    graph_dir = options.graph_dir
    for path in (options.model_repository_path, graph_dir):
        if path.exists() and not path.is_dir():
            raise ConfigError(f"{path} exists and is not a directory")
    if options.layout == "versioned":
        for kind in (rerank_layouts.RERANK_DIR, rerank_layouts.TOKENIZER_DIR):
            target = graph_dir / kind / str(options.version)
            if target.exists() and not options.overwrite_models:
                raise ConfigError(f"{target} already exists; {_OVERWRITE_HINT}")
    elif graph_dir.is_dir() and any(graph_dir.iterdir()) and not options.overwrite_models:
        raise ConfigError(f"{graph_dir} already exists; {_OVERWRITE_HINT}")
    workspace_fs.check_writable(graph_dir)
    workspace_fs.check_writable(options.config_file.absolute().parent)


def _ir_paths(ir_dir: Path, layout: str) -> tuple[Path, Path]:
    if layout == "flat":
        return ir_dir / "openvino_model.xml", ir_dir / "openvino_tokenizer.xml"
    for kind in (rerank_layouts.RERANK_DIR, rerank_layouts.TOKENIZER_DIR):
        (ir_dir / kind).mkdir()
    return (
        ir_dir / rerank_layouts.RERANK_DIR / "model.xml",
        ir_dir / rerank_layouts.TOKENIZER_DIR / "model.xml",
    )


def _install_versioned(ir_dir: Path, options: ExportOptions, staging: Path) -> None:
    for kind in (rerank_layouts.TOKENIZER_DIR, rerank_layouts.RERANK_DIR):
        target = options.graph_dir / kind / str(options.version)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.rename(staging / f"replaced-{kind}")
        (ir_dir / kind).rename(target)


def _export_classifier(
    source: SourceModel,
    xml_path: Path,
    weight_format: str,
    quantization: dict[str, Any] | None,
    keys: dict[str, str],
) -> None:
    try:
        import openvino as ov
        from optimum.intel import OVModelForSequenceClassification, OVWeightQuantizationConfig
    except (ImportError, RuntimeError) as exc:
        raise Unavailable(f"ovserve export needs the export stack ({type(exc).__name__}: {exc})") from exc
    config = None if quantization is None else OVWeightQuantizationConfig(**quantization)
    with convert._quiet_third_party():
        try:
            model = OVModelForSequenceClassification.from_pretrained(
                str(source.path), export=True, compile=False, quantization_config=config
            )
            rt_info.write_model_info(model.model, source.config, keys)
            ov.save_model(model.model, str(xml_path), compress_to_fp16=weight_format == "fp16")
        finally:
            convert._drop_optimum_tempdir(OVModelForSequenceClassification)
