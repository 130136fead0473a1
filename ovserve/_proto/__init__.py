"""Generated protobuf code (do not edit); regenerate with `make proto`.

Modules mirror `proto/`: `proto/mediapipe/framework/calculator.proto` becomes
`ovserve._proto.mediapipe.framework.calculator_pb2`. `generate.py` rewrites the generated
imports so that nothing here needs `sys.path` tricks.
"""
