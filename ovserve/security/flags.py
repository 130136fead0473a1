"""ovserve's own hardening flags (not in OVMS): limits, admission control, drain, access log,
and how `--ssl_*` become `TlsSettings`. `ovserve.cli` adds them to the server parser."""

from __future__ import annotations

import argparse

from ovserve.config import RequestLimits, TlsSettings


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def add_limit_flags(p: argparse.ArgumentParser) -> None:
    """ovserve's own flags (not in OVMS): limits, admission control, drain, access log."""
    lim = p.add_argument_group("limits and admission control (ovserve)")
    lim.add_argument(
        "--max_request_bytes", type=_positive, default=64 * 1024 * 1024, help="REST body limit; larger: 413"
    )
    lim.add_argument(
        "--grpc_max_message_bytes",
        type=_positive,
        default=100 * 1024 * 1024,
        help="gRPC message limit; larger: RESOURCE_EXHAUSTED",
    )
    lim.add_argument(
        "--max_inputs_per_request",
        type=_non_negative,
        default=2048,
        help="documents (OpenAI input items, KServe BYTES elements) per request; more: 400; 0 = no limit",
    )
    lim.add_argument(
        "--max_tokens_per_request",
        type=_non_negative,
        default=RequestLimits().max_tokens_per_request,
        help="tokens (as usage.prompt_tokens counts them) per request, checked after tokenization "
        "and before inference; more: 400; 0 = no limit",
    )
    lim.add_argument(
        "--max_inflight_requests",
        type=_non_negative,
        default=256,
        help="requests served at once per model or graph; one more gets 429 + Retry-After "
        "(gRPC RESOURCE_EXHAUSTED) at once; 0 = no limit",
    )
    lim.add_argument(
        "--servable_max_inflight",
        action="append",
        default=[],
        metavar="NAME=N",
        help="--max_inflight_requests for one model or graph; repeatable",
    )
    lim.add_argument(
        "--request_timeout_seconds",
        type=float,
        default=0.0,
        help="answer 504 / DEADLINE_EXCEEDED when a request runs longer; 0 (default) = no timeout",
    )
    lim.add_argument(
        "--shutdown_timeout",
        type=float,
        default=10.0,
        help="seconds that SIGTERM/SIGINT lets in-flight requests finish before exiting",
    )
    lim.add_argument(
        "--access_log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="one JSON line per request on logger ovserve.access (INFO)",
    )


def limits_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> RequestLimits:
    """`RequestLimits` from the flags of `add_limit_flags`; usage errors exit through `parser`."""
    if args.request_timeout_seconds < 0 or args.shutdown_timeout < 0:
        parser.error("--request_timeout_seconds and --shutdown_timeout must be >= 0")
    per_servable: dict[str, int] = {}
    for item in args.servable_max_inflight:
        name, _, count = item.rpartition("=")
        if not name or not count.isdigit():
            parser.error(f"--servable_max_inflight expects NAME=N with N >= 0, got {item!r}")
        per_servable[name] = int(count)
    return RequestLimits(
        max_body_bytes=args.max_request_bytes,
        max_grpc_message_bytes=args.grpc_max_message_bytes,
        max_inputs_per_request=args.max_inputs_per_request,
        max_tokens_per_request=args.max_tokens_per_request,
        max_inflight_requests=args.max_inflight_requests,
        max_inflight_per_servable=per_servable,
        request_timeout_seconds=args.request_timeout_seconds or None,
    )


def tls_from_args(args: argparse.Namespace, parser: argparse.ArgumentParser) -> TlsSettings | None:
    """`TlsSettings` from `--ssl_*` (None: plain text); both files are needed, and must exist."""
    if args.ssl_certfile is None and args.ssl_keyfile is None:
        if args.ssl_ca_certfile is not None:
            parser.error("--ssl_ca_certfile needs --ssl_certfile and --ssl_keyfile")
        return None
    if args.ssl_certfile is None or args.ssl_keyfile is None:
        parser.error("TLS needs both --ssl_certfile and --ssl_keyfile")
    for path in (args.ssl_certfile, args.ssl_keyfile, args.ssl_ca_certfile):
        if path is not None and not path.is_file():
            parser.error(f"TLS file not found: {path}")
    return TlsSettings(certfile=args.ssl_certfile, keyfile=args.ssl_keyfile, ca_certfile=args.ssl_ca_certfile)
