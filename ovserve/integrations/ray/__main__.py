"""`python -m ovserve.integrations.ray`: serve a workspace on Ray Serve with N replicas.

Takes every `ovserve` flag, with the same meaning inside each replica (`--config_path`,
batching, limits, `--api_key_file`...), plus the Ray flags below. `--rest_port` and
`--rest_bind_address` become the port and host of Ray's HTTP proxy; gRPC (`--port`) and TLS
are not served through Ray. Without `--address` a local Ray instance is started and shut down
on SIGINT/SIGTERM; with one (e.g. `auto`) the application joins that cluster and is deleted
on exit.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from types import FrameType

import ray
from ray import serve

from ovserve.cli import build_parser, config_from_args
from ovserve.errors import ConfigError
from ovserve.integrations.ray.deployment import DEFAULT_MAX_ONGOING_REQUESTS, build_app
from ovserve.logging_setup import configure_logging

log = logging.getLogger("ovserve.integrations.ray")

# Ray leaves `serve.shutdown` unannotated; this is its signature.
_serve_shutdown: Callable[[], None] = serve.shutdown


def parser() -> argparse.ArgumentParser:
    """ovserve's parser plus a `ray serve` group."""
    p = build_parser()
    p.prog = "python -m ovserve.integrations.ray"
    p.description = (
        "Serve an ovserve workspace as a Ray Serve application: N replicas, each a complete "
        "ovserve, behind Ray's HTTP proxy on --rest_bind_address:--rest_port."
    )
    group = p.add_argument_group("ray serve")
    group.add_argument("--replicas", type=int, default=2, help="number of replicas (default 2)")
    group.add_argument("--num_cpus", type=float, default=1.0, help="Ray CPUs per replica (default 1)")
    group.add_argument(
        "--inference_threads",
        type=int,
        default=None,
        help="OpenVINO CPU threads per replica (default: --num_cpus rounded down, at least 1)",
    )
    group.add_argument(
        "--pin_threads", action="store_true", help="let OpenVINO pin threads (one replica per host only)"
    )
    group.add_argument(
        "--max_ongoing_requests",
        type=int,
        default=DEFAULT_MAX_ONGOING_REQUESTS,
        help=f"requests Ray sends one replica at once (default {DEFAULT_MAX_ONGOING_REQUESTS})",
    )
    group.add_argument(
        "--address", default=None, help="Ray cluster to join (e.g. auto); default: start a local one"
    )
    group.add_argument("--app_name", default="ovserve", help="Ray Serve application name")
    group.add_argument("--route_prefix", default="/", help="route prefix of the application (default /)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(list(sys.argv[1:] if argv is None else argv))
    config = config_from_args(args, p)
    if config.grpc_port is not None:
        p.error("--port: gRPC is not served through Ray; use --rest_port only")
    if config.tls is not None:
        p.error("TLS flags: terminate TLS at Ray's proxy (serve.start http_options) or in front of it")
    if config.rest_port is None:
        p.error("--rest_port is required: it is the port of Ray's HTTP proxy")
    configure_logging(config.log_level, config.log_path)
    try:
        app = build_app(
            None,
            replicas=args.replicas,
            num_cpus=args.num_cpus,
            inference_threads=args.inference_threads,
            pin_threads=args.pin_threads,
            max_ongoing_requests=args.max_ongoing_requests,
            server=config,
        )
    except ConfigError as exc:  # checked before Ray starts
        log.error("%s", exc)
        return 1
    except ValueError as exc:
        p.error(str(exc))
    local = args.address is None
    ray.init(address="local" if local else args.address, include_dashboard=False if local else None)
    # After ray.init, which installs a SIGTERM handler of its own that exits without cleaning up.
    stop = _stop_on_signal()
    try:
        serve.start(http_options={"host": config.rest_bind_address, "port": config.rest_port})
        serve.run(app, name=args.app_name, route_prefix=args.route_prefix)
        log.info(
            "ovserve on Ray Serve: %d replicas at http://%s:%d%s",
            args.replicas,
            config.rest_bind_address,
            config.rest_port,
            args.route_prefix,
        )
        stop.wait()
        log.info("shutting down")
    except RuntimeError as exc:  # a deployment that failed to start
        log.error("%s", exc)
        return 1
    finally:
        if local:
            _serve_shutdown()
        else:
            serve.delete(args.app_name)
        ray.shutdown()
    return 0


def _stop_on_signal() -> threading.Event:
    """An event set by SIGINT or SIGTERM (instead of their default of exiting at once)."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, handler)
    return stop


if __name__ == "__main__":
    raise SystemExit(main())
