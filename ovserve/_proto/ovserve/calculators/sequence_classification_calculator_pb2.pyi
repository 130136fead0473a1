from ovserve._proto.ovserve.calculators import feature_extraction_calculator_pb2 as _feature_extraction_calculator_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SequenceClassificationCalculatorOptions(_message.Message):
    __slots__ = ("output_name", "batching")
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    BATCHING_FIELD_NUMBER: _ClassVar[int]
    output_name: str
    batching: _feature_extraction_calculator_pb2.BatchingOptions
    def __init__(self, output_name: _Optional[str] = ..., batching: _Optional[_Union[_feature_extraction_calculator_pb2.BatchingOptions, _Mapping]] = ...) -> None: ...
