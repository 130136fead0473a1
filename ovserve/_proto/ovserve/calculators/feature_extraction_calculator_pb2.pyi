from ovserve._proto.ovserve.calculators import normalize_calculator_pb2 as _normalize_calculator_pb2
from ovserve._proto.ovserve.calculators import pooling_calculator_pb2 as _pooling_calculator_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchingOptions(_message.Message):
    __slots__ = ("enabled", "max_batch_size", "max_batch_tokens", "pad_to_multiple_of")
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_TOKENS_FIELD_NUMBER: _ClassVar[int]
    PAD_TO_MULTIPLE_OF_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    max_batch_size: int
    max_batch_tokens: int
    pad_to_multiple_of: int
    def __init__(self, enabled: _Optional[bool] = ..., max_batch_size: _Optional[int] = ..., max_batch_tokens: _Optional[int] = ..., pad_to_multiple_of: _Optional[int] = ...) -> None: ...

class FeatureExtractionCalculatorOptions(_message.Message):
    __slots__ = ("output_name", "batching", "pooling", "normalize")
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    POOLING_FIELD_NUMBER: _ClassVar[int]
    NORMALIZE_FIELD_NUMBER: _ClassVar[int]
    output_name: str
    batching: BatchingOptions
    pooling: _pooling_calculator_pb2.PoolingCalculatorOptions
    normalize: _normalize_calculator_pb2.NormalizeCalculatorOptions
    def __init__(self, output_name: _Optional[str] = ..., batching: _Optional[_Union[BatchingOptions, _Mapping]] = ..., pooling: _Optional[_Union[_pooling_calculator_pb2.PoolingCalculatorOptions, _Mapping]] = ..., normalize: _Optional[_Union[_normalize_calculator_pb2.NormalizeCalculatorOptions, _Mapping]] = ...) -> None: ...
