"""The OpenVINO runtime helpers shared by the engine's calculators, plain models and the exporter.

* `core`: the process-wide `openvino.Core` (`shared_core`), tokenizer extension loaded.
* `infer_pool`: a bounded pool of infer requests per compiled model.
* `execution`: what a compiled model actually runs (precision, dynamic quantization), read back.
* `rt_info`: the keys ovserve's export writes into an IR's runtime info, and their readers.

This is the one OpenVINO module below both `calculators` and `ovserve.models`
(tests/test_layering.py).
"""

from __future__ import annotations

from ovserve.runtime.core import shared_core

__all__ = ["shared_core"]
