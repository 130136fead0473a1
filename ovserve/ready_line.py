"""The one start-up line that says the server is ready, where, and with what.

Logged once the start-up load has finished and something serves, e.g.
`ready: REST http://127.0.0.1:8000 (OpenAI /v3/embeddings, Cohere /v3/rerank, TEI /embed,
KServe /v2, docs /docs, OpenAPI /openapi.json), gRPC 127.0.0.1:9000; serving
sentence-transformers/all-MiniLM-L6-v2 (aliases: text-embedding-3-small ->
sentence-transformers/all-MiniLM-L6-v2)`. A wildcard bind address is shown as `127.0.0.1`, the
address a local client uses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ovserve.config import ServerConfig


def _host(bind: str) -> str:
    return "127.0.0.1" if bind in ("0.0.0.0", "", "::") else bind


def ready_message(
    config: ServerConfig,
    rest_port: int | None,
    grpc_port: int | None,
    served: Sequence[str],
    aliases: Mapping[str, str],
) -> str:
    """The ready line for these bound ports and callable names (see the module)."""
    parts = []
    if rest_port is not None:
        scheme = "https" if config.tls is not None else "http"
        parts.append(
            f"REST {scheme}://{_host(config.rest_bind_address)}:{rest_port} "
            "(OpenAI /v3/embeddings, Cohere /v3/rerank, TEI /embed, KServe /v2, "
            "docs /docs, OpenAPI /openapi.json)"
        )
    if grpc_port is not None:
        parts.append(f"gRPC {_host(config.grpc_bind_address)}:{grpc_port}")
    line = f"ready: {', '.join(parts)}; serving {', '.join(served) or 'nothing'}"
    if aliases:
        line += f" (aliases: {', '.join(f'{a} -> {t}' for a, t in sorted(aliases.items()))})"
    return line
