"""The export path for architectures optimum-intel has no export config for (ModernBERT).

optimum-intel 2.2.0 raises `Trying to export a <type> model, that is a custom or unsupported
architecture` for them. The fallback loads the model with transformers, exports its
`last_hidden_state` with `torch.export` (batch and sequence dynamic) and converts that with
`openvino.convert_model`; TorchScript tracing, the other route, fails on transformers 5's
masking code (`tuple index out of range`). Weights: fp32 and fp16 as
saved; int8 through NNCF's default weight compression (int8 asymmetric, per channel, as
optimum's); int4 is refused. When the fallback fails too, the export fails with one line
naming the architecture and the types optimum-intel supports.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from ovserve.errors import Unimplemented

UNSUPPORTED_MARK = "custom or unsupported architecture"
"""The text of optimum-intel's refusal."""


def is_unsupported_architecture(exc: BaseException) -> bool:
    return isinstance(exc, ValueError) and UNSUPPORTED_MARK in str(exc)


def export_with_torch_export(
    source: Path, model_type: str, *, quantization: dict[str, Any] | None, max_length: int
) -> Any:
    """The `openvino.Model` of the HF model at `source` (inputs input_ids, attention_mask).

    Raises:
        Unimplemented: int4 weights, or the model cannot be exported this way either.
    """
    import numpy as np
    import openvino as ov
    import torch
    from transformers import AutoModel

    if quantization is not None and quantization.get("bits") != 8:
        raise Unimplemented(
            _message(model_type, "the torch.export fallback supports fp32, fp16 and int8 only")
        )
    try:
        model = AutoModel.from_pretrained(str(source), attn_implementation="eager").eval()

        class _HiddenStates(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.model = model

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

        ids = torch.ones((2, 8), dtype=torch.int64)
        mask = torch.ones_like(ids)
        mask[1, 5:] = 0
        batch = torch.export.Dim("batch", min=1, max=4096)
        length = torch.export.Dim("sequence", min=2, max=max(max_length, 9))
        with torch.no_grad(), warnings.catch_warnings():
            # torch.export's and the converter's own notices (pytree LeafSpec deprecation, ...),
            # attributed to whichever frame calls them: none is the user's business.
            warnings.simplefilter("ignore")
            program = torch.export.export(
                _HiddenStates(),
                (),
                {"input_ids": ids, "attention_mask": mask},
                dynamic_shapes={"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}},
            )
            ov_model = ov.convert_model(program)
            expected = _HiddenStates()(ids, mask).numpy()
    except Exception as exc:  # any failure of the fallback is the same answer: not exportable
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise Unimplemented(
            _message(model_type, f"the torch.export fallback failed too ({type(exc).__name__}: {detail})")
        ) from exc
    (output,) = ov_model.outputs
    output.get_tensor().set_names({"last_hidden_state"})
    # A conversion that ran but computes something else must not be served.
    got = ov.Core().compile_model(ov_model, "CPU", {"INFERENCE_PRECISION_HINT": "f32"})(
        {"input_ids": ids.numpy(), "attention_mask": mask.numpy()}
    )[0]
    attended = mask.numpy().astype(bool)
    if not np.allclose(got[attended], expected[attended], atol=1e-4, rtol=1e-4):
        raise Unimplemented(_message(model_type, "the torch.export fallback gave other hidden states"))
    if quantization is not None:
        import nncf

        ov_model = nncf.compress_weights(ov_model)
    return ov_model


def _message(model_type: str, why: str) -> str:
    return (
        f"cannot export a {model_type!r} model: optimum-intel has no export config for it and {why}; "
        f"optimum-intel exports: {', '.join(supported_model_types())}"
    )


def supported_model_types() -> list[str]:
    """The model types optimum-intel exports for feature extraction (sorted; [] if unknown)."""
    try:
        from optimum.exporters.tasks import TasksManager

        types = TasksManager.get_supported_model_type_for_task("feature-extraction", exporter="openvino")
    except Exception:  # only used in a message
        return []
    return sorted(str(t) for t in types)
