from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class PairTokenizerCalculatorOptions(_message.Message):
    __slots__ = ("max_length",)
    MAX_LENGTH_FIELD_NUMBER: _ClassVar[int]
    max_length: int
    def __init__(self, max_length: _Optional[int] = ...) -> None: ...
