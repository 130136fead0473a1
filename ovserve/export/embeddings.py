"""`export_embeddings`: one HF model folder -> one embeddings graph in an OVMS workspace.

Everything that can be refused is refused before the slow conversion starts. The IRs are
written into a hidden staging directory inside the repository and moved into place by
rename, so a server polling the workspace never sees a half-written version directory.

Length handling (see `ovserve.runtime.rt_info` for the recorded keys): the tokenizer IR always
truncates, at `max_length` with `truncate`, otherwise at the model's positional limit, so
whatever `truncate` says no input longer than the model supports reaches it; with `truncate`
off the graph rejects inputs longer than `max_length` using the recorded `ovserve_max_length`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from ovserve.errors import ConfigError
from ovserve.export import config_file, convert, dense, layouts, workspace_fs
from ovserve.export.hf_model import SourceModel, read_source_model
from ovserve.export.options import ExportOptions, ExportResult
from ovserve.runtime import rt_info

STEPS = 5


def export_embeddings(
    options: ExportOptions, progress: Callable[[str], None] = lambda _: None
) -> ExportResult:
    """Run one export; `progress` gets one line per step (`[2/5] +1.2s exporting model (int8) ...`).

    Raises:
        ConfigError: a refusal (bad flag, bad source, existing target without
            `overwrite_models`, unwritable path, malformed config file); nothing was written.
        Unavailable: the export stack (torch, transformers, optimum-intel) is missing.
        OSError: writing failed midway; the staging directory is removed, targets are untouched
            unless they were already being replaced.
    """
    start = time.monotonic()

    def step(index: int, text: str) -> None:
        progress(f"[{index}/{STEPS}] +{time.monotonic() - start:.1f}s {text}")

    options = options.validated()
    step(1, f"reading {options.source_model}")
    source = read_source_model(options.source_model)
    plan = _Plan(options, source)
    workspace_fs.check_targets(options)
    config_file.check_config_file(options.config_file)

    options.model_repository_path.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ovserve-export-", dir=options.model_repository_path))
    try:
        ir_dir = staging / "new"
        ir_dir.mkdir()
        model_xml, tokenizer_xml = _ir_paths(ir_dir, options.layout)
        detokenizer_xml = layouts.detokenizer_path(tokenizer_xml.parent, options.layout)
        step(2, f"exporting model ({options.weight_format}) ...")
        convert.export_model_ir(
            source.path,
            model_xml,
            weight_format=options.weight_format,
            quantization=plan.quantization,
            model_info=source.config,
            ovserve_keys=plan.rt_keys,
            dense=source.dense,
        )
        step(3, f"converting tokenizer (truncating at {plan.tokenizer_max_length} tokens) ...")
        convert.export_tokenizer_ir(
            source.path,
            tokenizer_xml,
            max_length=plan.tokenizer_max_length,
            model_info=source.tokenizer_config,
            ovserve_keys=plan.rt_keys,
            detokenizer_xml=detokenizer_xml,
        )
        step(4, f"writing {options.layout} layout into {options.graph_dir}")
        if options.layout == "flat":
            _fill_flat(ir_dir, options, source, plan)
            workspace_fs.install_flat(ir_dir, options.graph_dir, staging)
        else:
            workspace_fs.install_versioned(ir_dir, options.graph_dir, options.version, staging)
            _write_versioned_files(options, plan)
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
        pooling=plan.pooling,
        max_length=plan.max_length,
        tokenizer_max_length=plan.tokenizer_max_length,
        max_position_embeddings=source.max_position_embeddings,
        plugin_config=plan.plugin_config,
        seconds=time.monotonic() - start,
    )


class _Plan:
    """The values derived from options and source that every later step agrees on."""

    def __init__(self, options: ExportOptions, source: SourceModel) -> None:
        limit = source.max_position_embeddings
        if options.max_length is not None:
            if limit is not None and options.max_length > limit:
                raise ConfigError(
                    f"--max_length {options.max_length} exceeds the model's positional limit {limit} "
                    f"({source.path / 'config.json'})"
                )
            self.max_length = options.max_length
        else:
            default = source.default_max_length()
            # A sentence-transformers max_seq_length above the positional limit would crash the model.
            self.max_length = min(default, limit) if limit is not None else default
        self.pooling = options.pooling or source.pooling or "CLS"
        dense.check_foldable(source.dense, self.pooling)
        self.quantization = convert.parse_extra_quantization_params(
            options.extra_quantization_params, options.weight_format
        )
        # Truncation is always baked in; only the cut point depends on --truncate (see module doc).
        if options.truncate or limit is None:
            self.tokenizer_max_length = self.max_length
        else:
            self.tokenizer_max_length = limit
        self.plugin_config = {"NUM_STREAMS": str(options.num_streams), **options.precision_properties}
        hint = options.inference_precision_hint
        self.rt_keys = rt_info.ovserve_rt_info(
            max_length=self.max_length,
            truncate=options.truncate,
            tokenizer_max_length=self.tokenizer_max_length,
            max_position_embeddings=limit,
            pooling=self.pooling,
            normalize=options.normalize,
            weight_format=options.weight_format,
            inference_precision_hint=hint,
            strip_text=source.sentence_transformers,
            prompts=source.prompts,
            default_prompt_name=source.default_prompt_name,
        )


def _ir_paths(ir_dir: Path, layout: str) -> tuple[Path, Path]:
    if layout == "flat":
        return ir_dir / layouts.FLAT_MODEL_XML, ir_dir / layouts.FLAT_TOKENIZER_XML
    model_dir = ir_dir / layouts.EMBEDDINGS_DIR
    tokenizer_dir = ir_dir / layouts.TOKENIZER_DIR
    model_dir.mkdir()
    tokenizer_dir.mkdir()
    return model_dir / layouts.VERSIONED_XML, tokenizer_dir / layouts.VERSIONED_XML


def _fill_flat(ir_dir: Path, options: ExportOptions, source: SourceModel, plan: _Plan) -> None:
    for relative in layouts.FLAT_COPIED_FILES:
        origin = source.path / relative
        if origin.is_file():
            (ir_dir / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(origin, ir_dir / relative)
    graph = layouts.flat_graph(
        normalize=options.normalize,
        pooling=plan.pooling,
        truncate=options.truncate,
        target_device=options.target_device,
        plugin_config=plan.plugin_config,
    )
    (ir_dir / layouts.GRAPH_FILE).write_text(graph, encoding="utf-8")


def _write_versioned_files(options: ExportOptions, plan: _Plan) -> None:
    # Rewritten on every export so that a --version 2 run leaves graph and subconfig coherent
    # with the newest options.
    graph = layouts.versioned_graph(options.graph_name, normalize=options.normalize)
    workspace_fs.write_text_atomically(options.graph_dir / layouts.GRAPH_FILE, graph)
    subconfig = layouts.subconfig(
        options.graph_name, target_device=options.target_device, plugin_config=plan.plugin_config
    )
    workspace_fs.write_text_atomically(
        options.graph_dir / layouts.SUBCONFIG_FILE, layouts.json_text(subconfig)
    )
