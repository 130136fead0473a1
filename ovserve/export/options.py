"""What an export is asked to do (`ExportOptions`) and what it produced (`ExportResult`).

Both are plain frozen dataclasses with no heavy imports, so a caller (the CLI, a test helper,
a future `--pull`) can build and validate options without torch or transformers installed.
`ExportOptions.validated()` checks everything that can be checked without reading the source
model and raises `ConfigError` with a one-line message naming the offending flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from ovserve.errors import ConfigError

WEIGHT_FORMATS: Final = ("fp32", "fp16", "int8", "int4")
POOLINGS: Final = ("CLS", "MEAN", "LAST")
LAYOUTS: Final = ("versioned", "flat")
EXECUTION_PRECISIONS: Final = ("auto", "default", "f32", "bf16", "f16")
"""`auto`: `f32` for `fp32` weights (exact answers), the plugin default otherwise;
`default`: never write `INFERENCE_PRECISION_HINT`; any other value is written as is."""
COMPRESSED_WEIGHT_FORMATS: Final = ("int8", "int4")
"""Weight formats whose activations OpenVINO's CPU plugin may quantize on the fly."""


@dataclass(frozen=True, kw_only=True)
class ExportOptions:
    """One `ovserve export embeddings` run; field names follow the OVMS `export_model.py` flags.

    `model_name=None` means "the `source_model` string", as in OVMS. `config_file_path=None`
    means `<model_repository_path>/config.json` (OVMS uses `./config.json`; keeping the config
    beside the models makes the workspace one movable folder). `pooling=None` and
    `max_length=None` are read from the source model (see `ovserve.export.hf_model`).
    """

    source_model: Path
    model_name: str | None = None
    model_repository_path: Path = Path("models")
    weight_format: str = "int8"
    config_file_path: Path | None = None
    overwrite_models: bool = False
    target_device: str = "CPU"
    num_streams: int = 1
    normalize: bool = True
    truncate: bool = False
    version: int = 1
    extra_quantization_params: str = ""
    pooling: str | None = None
    max_length: int | None = None
    layout: str = "versioned"
    execution_precision: str = "auto"

    @property
    def graph_name(self) -> str:
        """The servable name clients send; also the sub-directory of the repository."""
        return self.model_name if self.model_name is not None else str(self.source_model)

    @property
    def graph_dir(self) -> Path:
        return self.model_repository_path / PurePosixPath(self.graph_name)

    @property
    def config_file(self) -> Path:
        if self.config_file_path is not None:
            return self.config_file_path
        return self.model_repository_path / "config.json"

    @property
    def inference_precision_hint(self) -> str | None:
        """The `INFERENCE_PRECISION_HINT` to write into the embeddings model's plugin_config."""
        if self.execution_precision == "auto":
            return "f32" if self.weight_format == "fp32" else None
        if self.execution_precision == "default":
            return None
        return self.execution_precision

    @property
    def precision_properties(self) -> dict[str, str]:
        """The plugin_config entries that set the embeddings model's arithmetic.

        f32 means f32 throughout: for int8/int4 weights it also turns off the CPU plugin's
        dynamic quantization of activations (`DYNAMIC_QUANTIZATION_GROUP_SIZE` 0), which would
        otherwise run int8 activations and make a vector depend on its batch-mates by up to
        ~2e-3 (see `ovserve.runtime.execution`). It costs speed: on an AVX-512 bf16 CPU the int8
        model ran 1.7-2.7x slower at 32 x 128 tokens without it (benchmarks/batch_invariance.py).
        """
        hint = self.inference_precision_hint
        if hint is None:
            return {}
        properties = {"INFERENCE_PRECISION_HINT": hint}
        if hint == "f32" and self.weight_format in COMPRESSED_WEIGHT_FORMATS:
            properties["DYNAMIC_QUANTIZATION_GROUP_SIZE"] = "0"
        return properties

    def validated(self) -> ExportOptions:
        """Return self after checking every flag that needs no file access.

        Raises:
            ConfigError: a flag value is out of range or the model name would escape the repository.
        """
        _check_choice("--weight-format", self.weight_format, WEIGHT_FORMATS)
        _check_choice("--layout", self.layout, LAYOUTS)
        _check_choice("--execution_precision", self.execution_precision, EXECUTION_PRECISIONS)
        if self.pooling is not None:
            _check_choice("--pooling", self.pooling, POOLINGS)
        if self.num_streams < 1:
            raise ConfigError(f"--num_streams must be a positive integer, got {self.num_streams}")
        if self.version < 1:
            raise ConfigError(f"--version must be a positive integer, got {self.version}")
        if self.max_length is not None and self.max_length < 2:
            raise ConfigError(f"--max_length must be an integer >= 2, got {self.max_length}")
        if not self.target_device.strip():
            raise ConfigError("--target_device must not be empty")
        if self.extra_quantization_params.strip() and self.weight_format in ("fp32", "fp16"):
            raise ConfigError(
                "--extra_quantization_params applies to int8/int4 only, "
                f"not to --weight-format {self.weight_format}"
            )
        check_model_name(self.graph_name)
        return self


@dataclass(frozen=True, kw_only=True)
class ExportResult:
    """What an export wrote. Paths are as given (relative paths stay relative)."""

    graph_name: str
    graph_dir: Path
    config_file: Path
    layout: str
    version: int
    weight_format: str
    pooling: str
    max_length: int
    tokenizer_max_length: int
    max_position_embeddings: int | None
    plugin_config: dict[str, str]
    seconds: float


def check_model_name(name: str) -> None:
    """Refuse a servable name that is not a clean relative POSIX path inside the repository.

    `/` is allowed (OVMS names such as `BAAI/bge-large-en-v1.5` become two directories); empty
    parts, `.`, `..`, backslashes and absolute paths are not, because the name becomes a path
    that `--overwrite_models` may delete.
    """
    if not name or name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise ConfigError(
            f"--model_name {name!r} must be a relative name inside the repository "
            "(pass --model_name when --source_model is a path)"
        )
    for part in name.split("/"):
        if part in ("", ".", ".."):
            raise ConfigError(
                f"--model_name {name!r} must not contain empty, '.' or '..' parts "
                "(pass --model_name when --source_model is a path)"
            )


def _check_choice(flag: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{flag} must be one of {', '.join(choices)}; got {value!r}")
