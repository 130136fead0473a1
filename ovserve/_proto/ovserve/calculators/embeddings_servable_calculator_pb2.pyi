from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class EmbeddingsServableCalculatorOptions(_message.Message):
    __slots__ = ("models_path", "target_device", "plugin_config", "model_file", "tokenizer_file")
    MODELS_PATH_FIELD_NUMBER: _ClassVar[int]
    TARGET_DEVICE_FIELD_NUMBER: _ClassVar[int]
    PLUGIN_CONFIG_FIELD_NUMBER: _ClassVar[int]
    MODEL_FILE_FIELD_NUMBER: _ClassVar[int]
    TOKENIZER_FILE_FIELD_NUMBER: _ClassVar[int]
    models_path: str
    target_device: str
    plugin_config: str
    model_file: str
    tokenizer_file: str
    def __init__(self, models_path: _Optional[str] = ..., target_device: _Optional[str] = ..., plugin_config: _Optional[str] = ..., model_file: _Optional[str] = ..., tokenizer_file: _Optional[str] = ...) -> None: ...
