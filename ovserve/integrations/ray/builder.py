"""The application builder for Ray's own tools: `serve run`, `serve deploy` and KubeRay.

Ray calls `app_builder` with the `args` of a Serve config file, or the `key=value` pairs of
`serve run`, all strings on the command line:

    serve run ovserve.integrations.ray:app_builder config_path=models/config.json replicas=2

    # Serve config file (serve deploy, or a KubeRay RayService's serveConfigV2)
    applications:
      - name: ovserve
        route_prefix: /
        import_path: ovserve.integrations.ray:app_builder
        args:
          config_path: /models/config.json
          replicas: 2
          num_cpus: 1
          flags: --max_batch_size 32 --no-access_log
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shlex
from collections.abc import Mapping
from typing import Any

from ray.serve import Application

from ovserve.cli import build_parser, config_from_args
from ovserve.config import ServerConfig
from ovserve.integrations.ray.deployment import build_app

_CONVERTERS: dict[str, type[int] | type[float]] = {
    "replicas": int,
    "num_cpus": float,
    "inference_threads": int,
    "max_ongoing_requests": int,
}
KEYS = frozenset({"config_path", "flags", "pin_threads", *_CONVERTERS})
"""The arguments `app_builder` accepts."""


def app_builder(args: Mapping[str, Any]) -> Application:
    """`build_app` from a Serve config's `args` (see the module docstring).

    Keys: `config_path` (required), `replicas`, `num_cpus`, `inference_threads`, `pin_threads`,
    `max_ongoing_requests` as in `build_app`, and `flags`: more `ovserve` flags (a string split
    as a shell would, or a list), e.g. `--max_batch_size 32 --api_key_file /run/key`.

    Raises:
        ValueError: an unknown key, a value of the wrong type, or invalid `flags`.
        ConfigError: the workspace's files are invalid.
    """
    return build_app(**builder_arguments(args))


def builder_arguments(args: Mapping[str, Any]) -> dict[str, Any]:
    """The `build_app` keyword arguments that `args` of a Serve config ask for."""
    unknown = sorted(set(args) - KEYS)
    if unknown:
        raise ValueError(f"unknown ovserve app_builder arguments {unknown}; known: {sorted(KEYS)}")
    if "config_path" not in args:
        raise ValueError("ovserve app_builder needs config_path")
    options: dict[str, Any] = {"config_path": str(args["config_path"])}
    for key, convert in _CONVERTERS.items():
        if key in args:
            try:
                options[key] = convert(args[key])
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{key}: {exc}") from exc
    if "pin_threads" in args:
        options["pin_threads"] = _boolean(args["pin_threads"])
    options["server"] = _server_config(args.get("flags", ""), options["config_path"])
    return options


def _boolean(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(f"pin_threads: not a boolean: {value!r}")


def _server_config(flags: object, config_path: str) -> ServerConfig:
    """ovserve's own flag parsing and cross-checks, with errors raised instead of exiting."""
    if isinstance(flags, str):
        argv = shlex.split(flags)
    elif isinstance(flags, list | tuple) and all(isinstance(flag, str) for flag in flags):
        argv = list(flags)
    else:
        raise ValueError(f"flags must be a string or a list of strings, got {flags!r}")
    # Ray's proxy owns the network: a placeholder REST port satisfies the parser's checks.
    argv += ["--config_path", config_path, "--rest_port", "1"]
    parser = build_parser()
    errors = io.StringIO()
    try:
        with contextlib.redirect_stderr(errors):
            namespace: argparse.Namespace = parser.parse_args(argv)
            config = config_from_args(namespace, parser)
    except SystemExit as exc:
        raise ValueError(f"invalid ovserve flags {flags!r}: {errors.getvalue().strip()}") from exc
    if config.grpc_port is not None or config.tls is not None:
        raise ValueError("flags: gRPC (--port) and TLS are not served through Ray")
    return config
