from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RelevanceScoreCalculatorOptions(_message.Message):
    __slots__ = ("activation", "label", "ovms_label_rule")
    class Activation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        SIGMOID: _ClassVar[RelevanceScoreCalculatorOptions.Activation]
        NONE: _ClassVar[RelevanceScoreCalculatorOptions.Activation]
    SIGMOID: RelevanceScoreCalculatorOptions.Activation
    NONE: RelevanceScoreCalculatorOptions.Activation
    ACTIVATION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    OVMS_LABEL_RULE_FIELD_NUMBER: _ClassVar[int]
    activation: RelevanceScoreCalculatorOptions.Activation
    label: int
    ovms_label_rule: bool
    def __init__(self, activation: _Optional[_Union[RelevanceScoreCalculatorOptions.Activation, str]] = ..., label: _Optional[int] = ..., ovms_label_rule: _Optional[bool] = ...) -> None: ...
