"""Every flag of `ovserve`, `ovserve export embeddings` and `ovserve bench` has help text,
`--help` ends with examples, and the ready line names the URLs and what is served."""

from __future__ import annotations

import argparse

import pytest

from ovserve.bench.cli import build_parser as bench_parser
from ovserve.cli import build_parser
from ovserve.config import ServerConfig
from ovserve.export.cli import _build_parser as export_parser
from ovserve.ready_line import ready_message
from tests.running import running_server
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace


def flags_without_help(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                missing += flags_without_help(sub, f"{prefix}{name} ")
        elif not action.help and action.dest != "help":
            missing.append(prefix + "/".join(action.option_strings or [action.dest]))
    return missing


@pytest.mark.parametrize(
    "parser", [build_parser(), export_parser(), bench_parser()], ids=["serve", "export", "bench"]
)
def test_every_flag_has_help(parser: argparse.ArgumentParser) -> None:
    assert flags_without_help(parser) == []


def test_help_ends_with_examples() -> None:
    text = build_parser().format_help()
    assert "examples:" in text
    assert "--model_alias text-embedding-3-small=" in text


def test_ready_line_with_grpc_only() -> None:
    line = ready_message(ServerConfig(grpc_bind_address="10.0.0.1"), None, 9000, [], {})
    assert line == "ready: gRPC 10.0.0.1:9000; serving nothing"


@pytest.mark.slow
async def test_ready_line_of_a_running_server() -> None:
    async with running_server(exported_workspace(), model_aliases={"minilm": DEFAULT_GRAPH_NAME}) as server:
        names = server.dataplane.names
        line = ready_message(
            server.config, server.rest_port, server.grpc_port, names.callable_names(), names.aliases
        )
    assert line == (
        f"ready: REST http://127.0.0.1:{server.rest_port} (OpenAI /v3/embeddings, Cohere /v3/rerank, "
        f"TEI /embed, KServe /v2, docs /docs, OpenAPI /openapi.json), gRPC 127.0.0.1:{server.grpc_port}; "
        f"serving {DEFAULT_GRAPH_NAME} "
        f"(aliases: minilm -> {DEFAULT_GRAPH_NAME})"
    )
