"""Importing calculator modules named on the command line or in the configuration.

Importing a module runs its `@register_calculator` decorators, which is all registration
is. Built-ins are `calculators`; users add theirs by dotted name (`my_pkg.my_calcs`, found
on `sys.path`) or by file path (`./my_calcs.py`). Call this before loading graphs.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from ovserve.errors import ConfigError, OvserveError

log = logging.getLogger(__name__)

_FILE_MODULE_PREFIX = "ovserve_user_calculators"


def import_calculator_modules(names: Sequence[str]) -> list[ModuleType]:
    """Import each module (dotted name or `.py` path), in order; return the modules.

    Blocking (imports). Importing the same module twice is a no-op, as Python imports are.

    Raises:
        ConfigError: a module is not found, fails to import (the message carries the
            exception; the traceback is logged), or registers a name already taken.
    """
    return [_import_one(name) for name in names]


def _import_one(name: str) -> ModuleType:
    try:
        if name.endswith(".py") or "/" in name or "\\" in name:
            return _import_file(Path(name))
        return importlib.import_module(name)
    except OvserveError as exc:  # e.g. a duplicate registration
        raise ConfigError(f"calculator module {name!r}: {exc.message}") from exc
    except ModuleNotFoundError as exc:
        raise ConfigError(f"calculator module {name!r} not found: {exc}") from exc
    except Exception as exc:
        log.exception("importing calculator module %r failed", name)
        raise ConfigError(
            f"calculator module {name!r} failed to import: {type(exc).__name__}: {exc}"
        ) from exc


def _import_file(path: Path) -> ModuleType:
    path = path.expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"calculator module {str(path)!r} not found: no such file")
    # A stable, unique module name per file, so a second load of the same file is a no-op
    # and two files with the same stem do not replace each other.
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:10]
    module_name = f"{_FILE_MODULE_PREFIX}_{path.stem}_{digest}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"calculator module {str(path)!r} cannot be imported (not a Python file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module
