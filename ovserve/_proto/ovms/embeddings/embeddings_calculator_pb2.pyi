from ovserve._proto.mediapipe.framework import calculator_options_pb2 as _calculator_options_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EmbeddingsCalculatorOptions(_message.Message):
    __slots__ = ("normalize_embeddings", "mean_pooling")
    EXT_FIELD_NUMBER: _ClassVar[int]
    ext: _descriptor.FieldDescriptor
    NORMALIZE_EMBEDDINGS_FIELD_NUMBER: _ClassVar[int]
    MEAN_POOLING_FIELD_NUMBER: _ClassVar[int]
    normalize_embeddings: bool
    mean_pooling: bool
    def __init__(self, normalize_embeddings: _Optional[bool] = ..., mean_pooling: _Optional[bool] = ...) -> None: ...
