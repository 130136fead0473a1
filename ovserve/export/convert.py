"""The two slow conversions: HF model -> OpenVINO IR (optimum-intel) and HF tokenizer -> IR.

torch, transformers and optimum are imported inside the functions only: the server imports
`ovserve.export` modules for their constants and must run without that stack installed.
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import importlib
import json
import logging
import shlex
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ovserve.errors import ConfigError, Unavailable
from ovserve.export import fallback
from ovserve.export.dense import DenseLayer, fold_dense_layers
from ovserve.runtime import rt_info

_INSTALL_HINT = (
    "ovserve export needs the export stack: run `make setup`, or `pip install 'ovserve[export]'` "
    "followed by `pip install --no-deps optimum-intel==2.2.0`"
)
_LOGGER = logging.getLogger(__name__)
# Third-party loggers that print load reports, progress tables and notices during an export.
_NOISY_LOGGERS = ("transformers", "optimum", "nncf", "openvino_tokenizers", "torch")


INT8_KEPT_FP32: dict[str, Any] = {"patterns": [r".*\.attention\.self\.value/.*"], "validate": False}
"""What an int8 export leaves uncompressed (an `nncf.IgnoredScope`): the attention value
projections of BERT-style models. Measured with `benchmarks/int8_recipes.py` (issue 15; results
in benchmarks/results/) on all-MiniLM-L6-v2 and an AVX-512 bf16 CPU, where the plugin runs
int8 weights in bf16 with dynamic quantization of activations (group size 32): plain INT8_ASYM
put 4 of 20 texts over OVMS's compare_results line of L2 0.06 (max 0.0724, the empty string;
"数据库" 0.0618). With the 6 value MatMuls (8% of the MatMul weights, +2.6 MB) kept at fp32,
every text passes: max L2 0.0531 at the plugin default and 0.0445 at f32 without dynamic
quantization. Speed against plain INT8_ASYM at the plugin default, two runs: 0.96x / 1.00x
tokens/s at 32x128 and 0.95x / 0.98x for one 8-token text (A/A control 0.96-1.00x). Models
with other module names match nothing (`validate: False`) and get plain INT8_ASYM as before."""


def export_model_ir(
    source: Path,
    xml_path: Path,
    *,
    weight_format: str,
    quantization: dict[str, Any] | None,
    model_info: dict[str, Any],
    ovserve_keys: dict[str, str],
    dense: tuple[DenseLayer, ...] = (),
) -> None:
    """Convert the HF model at `source` into `xml_path` (+ `.bin`) with rt_info written, and
    the sentence-transformers `dense` layers appended to its hidden states (`ovserve.export.dense`).

    `quantization` holds `OVWeightQuantizationConfig` kwargs (see
    `parse_extra_quantization_params`); None exports unquantized weights.

    Raises:
        Unavailable: the export stack is not installed or cannot be imported.
    """
    ov, model_class, quantization_class = _import_model_stack()
    quantization_config = None if quantization is None else quantization_class(**quantization)
    with _quiet_third_party():
        try:
            try:
                model = model_class.from_pretrained(
                    str(source), export=True, compile=False, quantization_config=quantization_config
                )
                ov_model = model.model
            except ValueError as exc:
                if not fallback.is_unsupported_architecture(exc):
                    raise
                ov_model = fallback.export_with_torch_export(
                    source,
                    str(model_info.get("model_type", "unknown")),
                    quantization=quantization,
                    max_length=int(ovserve_keys.get(rt_info.KEY_TOKENIZER_MAX_LENGTH, "512")),
                )
            if dense:
                fold_dense_layers(ov_model, dense)
            rt_info.write_model_info(ov_model, model_info, ovserve_keys)
            # fp16 is a storage format: weights are halved on save, exactly what optimum-cli does.
            ov.save_model(ov_model, str(xml_path), compress_to_fp16=weight_format == "fp16")
        finally:
            _drop_optimum_tempdir(model_class)


def export_tokenizer_ir(
    source: Path,
    xml_path: Path,
    *,
    max_length: int,
    model_info: dict[str, Any],
    ovserve_keys: dict[str, str],
    detokenizer_xml: Path | None = None,
) -> bool:
    """Convert the HF tokenizer at `source` into `xml_path`, cutting every input at `max_length`,
    and its detokenizer into `detokenizer_xml` when given (what TEI's `/tokenize` and `/decode`
    use; see `calculators.ov_detokenizer`). Returns whether a detokenizer was written: a
    tokenizer openvino_tokenizers cannot make one for still exports, without it.

    Truncation is always on (it can only be set at conversion time): it is the guarantee that
    no input longer than the model supports ever reaches it.
    """
    ov, openvino_tokenizers, auto_tokenizer = _import_tokenizer_stack()
    detokenizer = None
    with _quiet_third_party():
        hf_tokenizer = auto_tokenizer.from_pretrained(str(source))
        _whitespace_split_as_normalization(hf_tokenizer)
        if detokenizer_xml is not None:
            try:
                # Special tokens skipped by default; the skip list is how the server learns them.
                tokenizer, detokenizer = openvino_tokenizers.convert_tokenizer(
                    hf_tokenizer, truncation=True, max_length=max_length, with_detokenizer=True
                )
            except Exception as exc:  # openvino_tokenizers raises bare exceptions for unsupported decoders
                _LOGGER.warning(
                    "no detokenizer for %s (%s): TEI /tokenize and /decode will not serve", source, exc
                )
        if detokenizer is None:
            tokenizer = openvino_tokenizers.convert_tokenizer(
                hf_tokenizer, truncation=True, max_length=max_length
            )
    rt_info.write_model_info(tokenizer, model_info, ovserve_keys)
    ov.save_model(tokenizer, str(xml_path))
    if detokenizer is None or detokenizer_xml is None:
        return False
    detokenizer_xml.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(detokenizer, str(detokenizer_xml))
    return True


def _whitespace_split_as_normalization(hf_tokenizer: Any) -> None:
    """Rewrite a `WhitespaceSplit` + `Metaspace` pre-tokenizer so openvino_tokenizers converts it right.

    transformers 5 loads XLM-R style tokenizers (multilingual-e5, bge-m3) with that pair, and
    openvino_tokenizers 2026.4 applies Metaspace's space replacement to the whole text before
    the split, so trailing or repeated whitespace became extra "▁" tokens (measured: "x " gave
    `<s> ▁ x ▁ </s>` against Hugging Face's `<s> ▁ x </s>`, "\t\n\r" two tokens against none).
    The same tokens come from collapsing whitespace runs to one space and stripping the ends
    as normalization, then Metaspace alone; only the copy being converted is changed.
    """
    backend = getattr(hf_tokenizer, "backend_tokenizer", None)
    if backend is None:
        return
    data = json.loads(backend.to_str())
    pre = data.get("pre_tokenizer") or {}
    steps = pre.get("pretokenizers", []) if pre.get("type") == "Sequence" else []
    if len(steps) < 2 or steps[0].get("type") != "WhitespaceSplit" or steps[1].get("type") != "Metaspace":
        return
    whitespace = [
        {"type": "Replace", "pattern": {"Regex": r"\s+"}, "content": " "},
        {"type": "Strip", "strip_left": True, "strip_right": True},
    ]
    normalizer = data.get("normalizer")
    data["normalizer"] = {
        "type": "Sequence",
        "normalizers": [*([normalizer] if normalizer else []), *whitespace],
    }
    rest = steps[1:]
    data["pre_tokenizer"] = rest[0] if len(rest) == 1 else {"type": "Sequence", "pretokenizers": rest}
    # The tokenizers package is there whenever a fast tokenizer is (it is what `backend` is).
    tokenizers: Any = importlib.import_module("tokenizers")
    hf_tokenizer._tokenizer = tokenizers.Tokenizer.from_str(json.dumps(data))


def parse_extra_quantization_params(text: str, weight_format: str) -> dict[str, Any] | None:
    """Map the optimum-cli flags OVMS users pass in `--extra_quantization_params` to kwargs of
    `OVWeightQuantizationConfig`; None for fp32/fp16. Only flags that make sense offline are
    accepted (no data-aware methods: there is no dataset to download).

    Raises:
        ConfigError: an unknown flag, a bad value, or anything but `--library transformers`.
    """
    if weight_format not in ("int8", "int4"):
        return None
    bits = 4 if weight_format == "int4" else 8
    # int4 defaults follow optimum-cli's for models it has no preset for.
    kwargs: dict[str, Any] = {"bits": bits, "group_size": 128 if bits == 4 else None, "ratio": 1.0}
    if bits == 8:
        kwargs["ignored_scope"] = copy.deepcopy(INT8_KEPT_FP32)
    if not text.strip():
        return kwargs
    parser = _QuantizationParser(prog="--extra_quantization_params", add_help=False)
    parser.add_argument("--sym", action="store_true")
    parser.add_argument("--group-size", type=int)
    parser.add_argument("--ratio", type=float)
    parser.add_argument("--all-layers", action="store_true")
    parser.add_argument("--backup-precision", choices=["none", "int8_sym", "int8_asym"])
    parser.add_argument("--library", choices=["transformers"])
    try:
        parsed = parser.parse_args(shlex.split(text))
    except ValueError as exc:
        raise ConfigError(f"--extra_quantization_params {text!r}: {exc}") from exc
    if parsed.sym:
        kwargs["sym"] = True
    if parsed.group_size is not None:
        kwargs["group_size"] = parsed.group_size
    if parsed.ratio is not None:
        if not 0.0 < parsed.ratio <= 1.0:
            raise ConfigError(f"--extra_quantization_params: --ratio must be in (0, 1], got {parsed.ratio}")
        kwargs["ratio"] = parsed.ratio
    if parsed.all_layers:
        kwargs["all_layers"] = True
    if parsed.backup_precision is not None:
        kwargs["backup_precision"] = parsed.backup_precision
    return kwargs


class _QuantizationParser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would print usage and exit the process
        raise ValueError(
            f"{message} (supported: --sym, --group-size N, --ratio R, --all-layers, "
            "--backup-precision none|int8_sym|int8_asym, --library transformers)"
        )


def _import_model_stack() -> tuple[Any, Any, Any]:
    try:
        import openvino as ov
        from optimum.intel import OVModelForFeatureExtraction, OVWeightQuantizationConfig
    except (ImportError, RuntimeError) as exc:
        # RuntimeError: a CUDA torchvision next to CPU torch fails while optimum imports it.
        raise Unavailable(f"{_INSTALL_HINT} ({type(exc).__name__}: {exc})") from exc
    return ov, OVModelForFeatureExtraction, OVWeightQuantizationConfig


def _import_tokenizer_stack() -> tuple[Any, Any, Any]:
    try:
        import openvino as ov
        import openvino_tokenizers
        from transformers import AutoTokenizer
    except (ImportError, RuntimeError) as exc:
        raise Unavailable(f"{_INSTALL_HINT} ({type(exc).__name__}: {exc})") from exc
    return ov, openvino_tokenizers, AutoTokenizer


def _drop_optimum_tempdir(model_class: Any) -> None:
    # optimum-intel keeps the exported files in a TemporaryDirectory held by a *class*
    # attribute; left to the garbage collector it emits a ResourceWarning ("Implicitly
    # cleaning up"), which pytest's filterwarnings=error turns into a failure. Clean it now.
    tempdir = model_class.__dict__.get("_model_save_dir_tempdirectory_instance")
    if tempdir is not None:
        tempdir.cleanup()
        delattr(model_class, "_model_save_dir_tempdirectory_instance")


@contextlib.contextmanager
def _quiet_third_party() -> Iterator[None]:
    """Silence the export stack's log noise and its known, harmless warnings; restore after.

    The warnings: torch.jit's DeprecationWarning for `trace`/`trace_method` and the
    TracerWarnings transformers' masking/attention code raises while optimum traces the model.
    """
    saved = {name: logging.getLogger(name).level for name in _NOISY_LOGGERS}
    for name in _NOISY_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)
    hf_logging: Any = None
    with contextlib.suppress(ImportError):
        from transformers.utils import logging as hf_logging
    bars_were_on = hf_logging is not None and hf_logging.is_progress_bar_enabled()
    if bars_were_on:
        hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.jit\.")
            warnings.filterwarnings("ignore", message=r"Converting a tensor to a Python")
            warnings.filterwarnings("ignore", message=r".*torch\.jit\.trace")
            # optimum-intel's decoder patching (Qwen3) builds mask constants with torch.tensor.
            warnings.filterwarnings("ignore", message=r"torch\.tensor results are registered as constants")
            yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
        if bars_were_on:
            hf_logging.enable_progress_bar()
