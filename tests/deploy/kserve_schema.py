"""Typed access to the KServe SDK's resource models, for checking manifests against them.

The `kserve` package (installed `--no-deps`: its server dependencies clash with the pinned
stack) generates one class per schema object (`V1alpha1ServingRuntime`, ...), and nested
Kubernetes types (`V1Container`, `V1Probe`, ...) come from the `kubernetes` client. Each class
names its fields in `openapi_types` (Python name -> type string such as `list[V1Container]`,
`Dict[str, str]`) and `attribute_map` (Python name -> manifest key).

`to_model()` builds the SDK objects from a manifest through those classes' constructors
(which run their own required-field checks) and is stricter than the SDK's own deserializer,
which silently drops what it does not know: an unknown key or a value of the wrong type raises
`SchemaError` with its path. `to_manifest()` goes back through the same tables (leaving out
unset fields and the generator's own defaults), so a manifest that survives the round trip
unchanged uses only fields the schema has, with values of the schema's types.

`kserve/__init__.py` imports the SDK's model server (fastapi, uvicorn, ...), which is not
installed, so the model modules are loaded under a stand-in `kserve` package that has the real
package's path but runs none of its `__init__`; `sys.modules` is restored afterwards.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import importlib.util
import inspect
import re
import sys
import types
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

_LIST = re.compile(r"^(?:list|List)\[(.+)\]$")
_DICT = re.compile(r"^(?:dict\(str, (.+)\)|Dict\[str, (.+)\])$")


class SchemaError(ValueError):
    """A manifest value the KServe/Kubernetes schema does not accept; `path` locates it."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '<root>'}: {message}")
        self.path = path


@functools.cache
def _namespaces() -> tuple[types.ModuleType, types.ModuleType]:
    """The `kserve.models` and `kubernetes.client.models` modules (loaded once)."""
    with _kserve_without_server():
        kserve_models = importlib.import_module("kserve.models")
    kubernetes_models = importlib.import_module("kubernetes.client.models")
    return kserve_models, kubernetes_models


@contextmanager
def _kserve_without_server() -> Iterator[None]:
    spec = importlib.util.find_spec("kserve")
    if spec is None or spec.submodule_search_locations is None:
        raise ImportError("the kserve SDK is not installed (dev extra: kserve, installed --no-deps)")
    saved = {name: module for name, module in sys.modules.items() if _is_kserve(name)}
    for name in saved:
        del sys.modules[name]
    stand_in = types.ModuleType("kserve")
    stand_in.__path__ = list(spec.submodule_search_locations)
    stand_in.__spec__ = spec
    sys.modules["kserve"] = stand_in
    try:
        yield
    finally:
        for name in [name for name in sys.modules if _is_kserve(name)]:
            del sys.modules[name]
        sys.modules.update(saved)


def _is_kserve(module_name: str) -> bool:
    return module_name == "kserve" or module_name.startswith("kserve.")


def model_class(name: str) -> type:
    """The SDK class called `name`: KServe's own first, then the Kubernetes client's."""
    for namespace in _namespaces():
        found = getattr(namespace, name, None)
        if isinstance(found, type) and isinstance(getattr(found, "openapi_types", None), dict):
            return found
    raise LookupError(f"no KServe or Kubernetes model class named {name!r}")


def to_model(manifest: object, class_name: str) -> object:
    """Build an instance of the SDK class `class_name` from a manifest mapping; see the module doc."""
    return _decode(manifest, class_name, "")


def to_manifest(model: object) -> object:
    """The manifest form of an SDK object (or a list/dict of them): keys as in YAML, no unset fields."""
    if isinstance(model, list):
        return [to_manifest(item) for item in model]
    if isinstance(model, dict):
        return {key: to_manifest(value) for key, value in model.items()}
    fields = _fields(type(model))
    if fields is None:
        return model
    defaults = _constructor_defaults(model)
    out: dict[str, object] = {}
    for attribute, (key, _) in fields.items():
        value = getattr(model, attribute)
        # Unset fields are None, except a few the generator defaults (V1beta1ModelSpec.name = '').
        if value is not None and not (attribute in defaults and value == defaults[attribute]):
            out[key] = to_manifest(value)
    return out


def _constructor_defaults(model: object) -> dict[str, object]:
    parameters = inspect.signature(type(model)).parameters.values()
    return {p.name: p.default for p in parameters if p.default not in (None, inspect.Parameter.empty)}


def _fields(cls: type) -> dict[str, tuple[str, str]] | None:
    """Python attribute -> (manifest key, type string) of a generated model class, else None."""
    openapi_types = getattr(cls, "openapi_types", None)
    attribute_map = getattr(cls, "attribute_map", None)
    if not isinstance(openapi_types, dict) or not isinstance(attribute_map, dict):
        return None
    return {str(attr): (str(attribute_map[attr]), str(kind)) for attr, kind in openapi_types.items()}


def _decode(value: object, kind: str, path: str) -> object:
    if (match := _LIST.match(kind)) is not None:
        if not isinstance(value, list):
            raise SchemaError(path, f"expected a list ({kind}), got {type(value).__name__}")
        return [_decode(item, match.group(1), f"{path}[{index}]") for index, item in enumerate(value)]
    if (match := _DICT.match(kind)) is not None:
        item_kind = match.group(1) or match.group(2)
        if not isinstance(value, Mapping):
            raise SchemaError(path, f"expected a mapping ({kind}), got {type(value).__name__}")
        return {str(key): _decode(item, item_kind, f"{path}.{key}") for key, item in value.items()}
    primitive = _PRIMITIVES.get(kind)
    if primitive is not None:
        if not primitive(value):
            raise SchemaError(path, f"expected {kind}, got {type(value).__name__} {value!r}")
        return value
    return _decode_model(value, model_class(kind), path)


def _decode_model(value: object, cls: type, path: str) -> object:
    if not isinstance(value, Mapping):
        raise SchemaError(path, f"expected a {cls.__name__} mapping, got {type(value).__name__}")
    fields = _fields(cls)
    assert fields is not None, cls
    by_key = {key: (attribute, kind) for attribute, (key, kind) in fields.items()}
    unknown = sorted(str(key) for key in value if key not in by_key)
    if unknown:
        raise SchemaError(path, f"{cls.__name__} has no field {', '.join(unknown)}")
    arguments = {
        by_key[key][0]: _decode(item, by_key[key][1], f"{path}.{key}" if path else str(key))
        for key, item in value.items()
    }
    try:
        return cls(**arguments)
    except ValueError as exc:  # the generated setters' own checks (required fields, enums)
        raise SchemaError(path, f"{cls.__name__}: {exc}") from exc


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Callable[[object], bool]] = {
    "str": lambda value: isinstance(value, str),
    "int": _is_int,
    "float": lambda value: _is_int(value) or isinstance(value, float),
    "bool": lambda value: isinstance(value, bool),
    "object": lambda value: True,  # int-or-string ports, quantities: anything the API server parses
    "datetime": lambda value: isinstance(value, (str, datetime.datetime)),
    "date": lambda value: isinstance(value, (str, datetime.date)),
    "bytes": lambda value: isinstance(value, (str, bytes)),
}
