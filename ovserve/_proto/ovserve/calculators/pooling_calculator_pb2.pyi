from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PoolingCalculatorOptions(_message.Message):
    __slots__ = ("mode", "fallback")
    class Mode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        AUTO: _ClassVar[PoolingCalculatorOptions.Mode]
        CLS: _ClassVar[PoolingCalculatorOptions.Mode]
        MEAN: _ClassVar[PoolingCalculatorOptions.Mode]
        LAST: _ClassVar[PoolingCalculatorOptions.Mode]
    AUTO: PoolingCalculatorOptions.Mode
    CLS: PoolingCalculatorOptions.Mode
    MEAN: PoolingCalculatorOptions.Mode
    LAST: PoolingCalculatorOptions.Mode
    MODE_FIELD_NUMBER: _ClassVar[int]
    FALLBACK_FIELD_NUMBER: _ClassVar[int]
    mode: PoolingCalculatorOptions.Mode
    fallback: PoolingCalculatorOptions.Mode
    def __init__(self, mode: _Optional[_Union[PoolingCalculatorOptions.Mode, str]] = ..., fallback: _Optional[_Union[PoolingCalculatorOptions.Mode, str]] = ...) -> None: ...
