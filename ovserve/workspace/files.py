"""Reading config documents (JSON or YAML) into plain Python values, with precise errors.

Contract: `read_document` returns the parsed document or raises `ConfigError` whose message starts
with the file's display name and, for syntax errors, gives `line L, column C` (1-based). Nothing is
written; the workspace may be a read-only mount.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ovserve.errors import ConfigError

YAML_SUFFIXES = frozenset({".yaml", ".yml"})


def _reject_constant(token: str) -> object:
    # Python's json accepts NaN/Infinity, which are not JSON (OVMS's rapidjson refuses them).
    raise ValueError(f"{token} is not valid JSON")


def read_document(path: Path, display: str) -> object:
    """Parse `path` as YAML when its suffix is .yaml/.yml, else as JSON.

    Raises:
        ConfigError: the file is missing, unreadable, not UTF-8 or not well-formed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{display}: file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{display}: expected a file, found a directory") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{display}: not valid UTF-8 text (byte offset {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"{display}: cannot read the file ({exc.strerror or exc})") from None
    if path.suffix.lower() in YAML_SUFFIXES:
        return _parse_yaml(text, display)
    return _parse_json(text, display)


def _parse_json(text: str, display: str) -> object:
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{display}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise ConfigError(f"{display}: invalid JSON: {exc}") from None


def _parse_yaml(text: str, display: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = exc.problem or exc.context or "syntax error"
        raise ConfigError(f"{display}: invalid YAML{where}: {problem}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{display}: invalid YAML: {exc}") from None
