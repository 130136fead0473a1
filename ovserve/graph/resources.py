"""What the server lends to graphs at load time: models from the config, by name.

`ModelResolver` is implemented by the server (its model repository built from `config.json`
and every graph's `subconfig.json`); the graph engine only consumes it. Resource calculators
such as OVMS's `OpenVINOModelServerSessionCalculator` call `resolve()` from
`Calculator.load`, i.e. once per graph definition, on the thread that loads the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ovserve.errors import NotFound

if TYPE_CHECKING:
    import openvino


class LoadedModel(Protocol):
    """One loaded version of a model listed in `config.json` / `subconfig.json`.

    The objects are shared by every graph and every request that uses the model; a
    consumer must not mutate them. `compiled.create_infer_request()` is the way to get
    per-request (or per-thread) mutable state.
    """

    @property
    def name(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def path(self) -> Path:
        """The version directory (`<base_path>/<version>`) the model was read from."""
        ...

    @property
    def model(self) -> openvino.Model: ...
    @property
    def compiled(self) -> openvino.CompiledModel: ...


class ModelResolver(Protocol):
    """Looks up models of the server's configuration by name.

    Called from `Calculator.load` on the graph-loading thread (never on the event loop).
    """

    def resolve(self, name: str, version: int | None = None) -> LoadedModel:
        """Return the model `name` at `version` (None: the highest available version).

        Raises:
            NotFound: no model or version of that name in the configuration.
            Unavailable: the model exists but is not (or no longer) loaded.
        """
        ...


class NoModels:
    """A `ModelResolver` for graphs that need no configured models (tests, examples)."""

    def resolve(self, name: str, version: int | None = None) -> LoadedModel:
        raise NotFound(f"Model with requested name is not found: {name!r} (no models configured)")
