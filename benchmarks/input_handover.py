"""What handing a batch's arrays to an infer request costs: copied (the default) or shared.

    .venv/bin/python benchmarks/input_handover.py [--rows 1] [--tokens 4] [--calls 20000]

`calculators.ov_model.FeatureExtractor.infer` passes `share_inputs=True`, so the request reads
the batch's input_ids, attention_mask and token_type_ids in place. This script measures the
Python-side cost of both ways on a model that does almost nothing (three int64 inputs of
shape [N, L] added together), so each call's time is the hand-over and the call itself.
Rounds run in ABBA order (copied, shared, shared, copied) and the best round of each counts.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import openvino as ov
import openvino.opset13 as ops


def adder() -> ov.CompiledModel:
    inputs = [
        ops.parameter([-1, -1], ov.Type.i64, name=n)
        for n in ("input_ids", "attention_mask", "token_type_ids")
    ]
    total = ops.add(ops.add(inputs[0], inputs[1]), inputs[2])
    model = ov.Model([total], inputs, "adder")
    return ov.Core().compile_model(model, "CPU", {"NUM_STREAMS": "1", "INFERENCE_NUM_THREADS": 1})


def per_call_us(request: ov.InferRequest, feeds: dict[int, np.ndarray], share: bool, calls: int) -> float:
    request.infer(feeds, share_inputs=share, share_outputs=True)
    start = time.perf_counter()
    for _ in range(calls):
        request.infer(feeds, share_inputs=share, share_outputs=True)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1)
    parser.add_argument("--tokens", type=int, default=4)
    parser.add_argument("--calls", type=int, default=20000)
    args = parser.parse_args()
    request = adder().create_infer_request()
    ids = np.full((args.rows, args.tokens), 1000, dtype=np.int64)
    feeds = {0: ids, 1: np.ones_like(ids), 2: np.zeros_like(ids)}
    best = {False: float("inf"), True: float("inf")}
    for _ in range(3):
        for share in (False, True, True, False):
            best[share] = min(best[share], per_call_us(request, feeds, share, args.calls))
    print(f"{args.rows} x {args.tokens} int64, 3 inputs, {ov.get_version()}")
    print(f"copied (share_inputs=False): {best[False]:.1f} us per call")
    print(f"shared (share_inputs=True):  {best[True]:.1f} us per call")
    print(f"saved: {best[False] - best[True]:.1f} us per call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
