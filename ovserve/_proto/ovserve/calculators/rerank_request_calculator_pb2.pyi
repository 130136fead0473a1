from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class RerankRequestCalculatorOptions(_message.Message):
    __slots__ = ("max_documents",)
    MAX_DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    max_documents: int
    def __init__(self, max_documents: _Optional[int] = ...) -> None: ...
