"""The Ray integration stays optional: nothing on the server's import path loads Ray."""

from __future__ import annotations

from tests.test_layering import modules_loaded_by, offending


def test_the_server_and_the_integrations_root_never_import_ray() -> None:
    loaded = modules_loaded_by(["ovserve.server", "ovserve.cli", "ovserve.integrations"])
    assert offending(loaded, ("ray", "starlette", "uvicorn", "fastapi")) == []
