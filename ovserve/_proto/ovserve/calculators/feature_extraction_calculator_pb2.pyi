from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class FeatureExtractionCalculatorOptions(_message.Message):
    __slots__ = ("output_name",)
    OUTPUT_NAME_FIELD_NUMBER: _ClassVar[int]
    output_name: str
    def __init__(self, output_name: _Optional[str] = ...) -> None: ...
