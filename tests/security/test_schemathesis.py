"""Property-based fuzzing of every documented REST operation with schemathesis.

schemathesis reads the `/openapi.json` document and, against a real `ovserve` process serving
the seed workspace, generates per operation bodies that follow the schema and bodies that
break it (hypothesis shrinks any failure to a minimal case). Every answer must be a non-5xx
within the timeout (no hang), and the server must still answer a normal request afterwards
(no dead worker).
This complements the seeded fuzzer of `test_openapi_fuzz.py`, which runs more cases in-process.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from ovserve.frontends.rest.openapi import document
from tests.deploy.support import free_port, running_ovserve
from tests.support.models import DEFAULT_GRAPH_NAME, exported_workspace

pytestmark = pytest.mark.slow

# Per operation; ~40 operations. Raise it locally (OVSERVE_FUZZ_EXAMPLES) for a deeper run.
EXAMPLES = int(os.environ.get("OVSERVE_FUZZ_EXAMPLES", "12"))
# Generous: a fuzzed batch of long texts may take a while on 2 busy cores, but never hang.
CALL_TIMEOUT_S = 30


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = exported_workspace()
    rest, grpc = free_port(), free_port()
    log = Path(tmp_path_factory.mktemp("schemathesis")) / "ovserve.log"
    args = ["--config_path", str(config), "--port", str(grpc), "--rest_port", str(rest)]
    url = f"http://127.0.0.1:{rest}"
    with running_ovserve(args, f"{url}/v2/health/ready", log):
        yield url


# The document `/openapi.json` serves, built in-process so that the operations are known at
# collection time (test_openapi_fuzz.py checks that it documents every route).
schema = schemathesis.openapi.from_dict(document())


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_5xx_or_hangs(case: schemathesis.Case[Any], base_url: str) -> None:
    # The one graph's name where the schema has a free `model`/`name`, sometimes: both the
    # routed path (the graph runs) and the unknown-name path get fuzzed.
    if isinstance(case.body, dict) and "model" in case.body and zlib.crc32(repr(case.body).encode()) % 2:
        case.body["model"] = DEFAULT_GRAPH_NAME
    case.call_and_validate(base_url=base_url, checks=[not_a_server_error], timeout=CALL_TIMEOUT_S)


def test_the_server_still_answers_after_the_fuzz_run(base_url: str) -> None:
    body = {"model": DEFAULT_GRAPH_NAME, "input": ["after the fuzz run"]}
    response = requests.post(f"{base_url}/v3/embeddings", json=body, timeout=CALL_TIMEOUT_S)
    assert response.status_code == 200
    assert len(response.json()["data"][0]["embedding"]) == 384
