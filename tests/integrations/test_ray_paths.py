"""How a replica rebuilds the request target from the ASGI scope Ray's proxy hands it."""

from __future__ import annotations

import pytest

# Also imports ray.serve with warnings silenced: Ray 2.60 trips a pydantic deprecation warning.
pytest.importorskip("ray.serve")

from ovserve.integrations.ray.deployment import _path, _target


@pytest.mark.parametrize(
    ("scope", "target"),
    [
        ({"path": "/v3/embeddings", "raw_path": b"/v3/embeddings", "root_path": ""}, "/v3/embeddings"),
        # route_prefix="/ovserve": Ray moves the prefix into root_path and keeps the full path.
        (
            {"path": "/ovserve/v1/config", "raw_path": b"/ovserve/v1/config", "root_path": "/ovserve"},
            "/v1/config",
        ),
        ({"path": "/ovserve", "raw_path": b"/ovserve", "root_path": "/ovserve"}, "/"),
        # Percent-encoding and the query string are kept as the client sent them.
        (
            {
                "path": "/v2/models/a b/ready",
                "raw_path": b"/v2/models/a%20b/ready",
                "root_path": "",
                "query_string": b"x=1&y=%2F",
            },
            "/v2/models/a%20b/ready?x=1&y=%2F",
        ),
        ({"path": "/v2/models/a b/ready", "root_path": ""}, "/v2/models/a%20b/ready"),
    ],
)
def test_target_is_the_path_below_the_route_prefix(scope: dict[str, object], target: str) -> None:
    assert _target(scope) == target


def test_error_routing_uses_the_path_below_the_route_prefix() -> None:
    assert _path({"path": "/ovserve/v3/embeddings", "root_path": "/ovserve"}) == "/v3/embeddings"
