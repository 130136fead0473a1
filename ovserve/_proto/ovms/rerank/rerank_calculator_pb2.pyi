from ovserve._proto.mediapipe.framework import calculator_options_pb2 as _calculator_options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RerankCalculatorOptions(_message.Message):
    __slots__ = ("max_allowed_chunks", "max_length")
    EXT_FIELD_NUMBER: _ClassVar[int]
    ext: _descriptor.FieldDescriptor
    MAX_ALLOWED_CHUNKS_FIELD_NUMBER: _ClassVar[int]
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    max_allowed_chunks: int
    max_length: int
    def __init__(self, max_allowed_chunks: _Optional[int] = ..., max_length: _Optional[int] = ...) -> None: ...
