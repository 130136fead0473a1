"""TEI's `/tokenize` and `/decode` with TEI-shaped requests sent by `requests`, against the real
seed workspace (whose export wrote a detokenizer), and against one without a detokenizer, as
OVMS's own export leaves it."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import requests

from ovserve.server import Server
from tests.rest.support import GRAPH
from tests.running import running_server
from tests.support.models import copy_workspace, default_model_source, exported_workspace

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="module")]


async def post(server: Server, path: str, body: Any) -> requests.Response:
    # `requests` blocks: off the loop that serves the in-process server.
    url = f"http://127.0.0.1:{server.rest_port}{path}"
    return await asyncio.to_thread(requests.post, url, json=body, timeout=60)


def hugging_face() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(default_model_source()))


async def test_tokenize_answers_tei_tokens_with_byte_offsets(server: Server) -> None:
    response = await post(server, "/tokenize", {"inputs": "Hello Straße ❤!"})
    assert response.status_code == 200
    # [CLS] hello st ##raße [UNK] ! [SEP]: offsets count UTF-8 bytes ("ß" is 2, "❤" 3).
    assert response.json() == [
        [
            {"id": 101, "text": "[CLS]", "special": True, "start": None, "stop": None},
            {"id": 7592, "text": "Hello", "special": False, "start": 0, "stop": 5},
            {"id": 2358, "text": "St", "special": False, "start": 6, "stop": 8},
            {"id": 27807, "text": "raße", "special": False, "start": 8, "stop": 13},
            {"id": 100, "text": "❤", "special": False, "start": 14, "stop": 17},
            {"id": 999, "text": "!", "special": False, "start": 17, "stop": 18},
            {"id": 102, "text": "[SEP]", "special": True, "start": None, "stop": None},
        ]
    ]


async def test_tokenize_a_list_gives_the_ids_of_v3_tokenize(server: Server) -> None:
    texts = ["first text", "a [SEP] typed in", "日本語"]
    tei = await post(server, "/tokenize", {"inputs": texts, "model": "all-MiniLM-L6-v2"})
    ovms = await post(server, "/v3/tokenize", {"model": GRAPH, "text": texts})
    assert (tei.status_code, ovms.status_code) == (200, 200)
    assert [[token["id"] for token in row] for row in tei.json()] == ovms.json()["tokens"]
    typed = tei.json()[1][2]
    assert typed == {"id": 102, "text": "[SEP]", "special": False, "start": 2, "stop": 7}
    bare = await post(server, "/tokenize", {"inputs": texts, "add_special_tokens": False})
    assert [[token["id"] for token in row] for row in bare.json()] == hugging_face()(
        texts, add_special_tokens=False
    )["input_ids"]


@pytest.mark.parametrize("skip", [True, False])
async def test_decode_is_the_hugging_face_decode(server: Server, skip: bool) -> None:
    rows = hugging_face()(["Hello, world!", "naïve café"])["input_ids"]
    many = await post(server, "/decode", {"ids": rows, "skip_special_tokens": skip})
    one = await post(server, "/decode", {"ids": rows[0], "skip_special_tokens": skip})
    empty = await post(server, "/decode", {"ids": []})
    want = [hugging_face().decode(row, skip_special_tokens=skip) for row in rows]
    assert (many.status_code, one.status_code, empty.status_code) == (200, 200, 200)
    assert (many.json(), one.json(), empty.json()) == (want, want[:1], [""])


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("/tokenize", {"inputs": []}, "inputs must be a string or a non-empty list"),
        ("/tokenize", {"inputs": 3}, "inputs must be a string or a non-empty list"),
        ("/tokenize", {"inputs": "x", "add_special_tokens": "yes"}, "add_special_tokens must be a boolean"),
        ("/tokenize", {"inputs": "x", "prompt_name": 1}, "prompt_name must be a string"),
        ("/tokenize", {"inputs": "x", "prompt_name": "query"}, "prompt_name 'query' is not available"),
        ("/tokenize", ["x"], "the JSON body must be an object"),
        ("/decode", {"ids": "1 2"}, "ids must be a list of token ids"),
        ("/decode", {"ids": [[1], [2, "a"]]}, "ids must be a list of token ids"),
        ("/decode", {"ids": [1, True]}, "ids must be a list of token ids"),
        ("/decode", {}, "ids must be a list of token ids"),
        ("/decode", {"ids": [1], "skip_special_tokens": 0}, "skip_special_tokens must be a boolean"),
        ("/decode", {"ids": [-1]}, "token id -1 is outside this model's vocabulary (0..30521)"),
        ("/decode", {"ids": [[5], [10**30]]}, f"token id {10**30} is outside this model's vocabulary"),
    ],
)
async def test_refusals_have_tei_error_shape(server: Server, path: str, body: Any, message: str) -> None:
    response = await post(server, path, body)
    assert response.status_code == 400
    assert set(response.json()) == {"error", "error_type"}
    assert response.json()["error_type"] == "Validation"
    assert message in response.json()["error"]


async def test_an_unknown_model_is_404(server: Server) -> None:
    for path, body in (("/tokenize", {"inputs": "x"}), ("/decode", {"ids": [1]})):
        response = await post(server, path, {**body, "model": "nope"})
        assert response.status_code == 404
        assert response.json()["error"] == "Mediapipe graph definition with requested name is not found"


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def without_detokenizer(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Server]:
    """The seed workspace with its detokenizer removed: what OVMS's export writes."""
    config = copy_workspace(exported_workspace(), tmp_path_factory.mktemp("no-detokenizer"))
    folder = config.parent / GRAPH / "tokenizer" / "1" / "detokenizer"
    assert (folder / "openvino_detokenizer.xml").is_file()
    shutil.rmtree(folder)
    async with running_server(config) as started:
        yield started


async def test_without_a_detokenizer_tokenize_and_decode_say_what_is_missing(
    without_detokenizer: Server,
) -> None:
    for path, body in (("/tokenize", {"inputs": "x"}), ("/decode", {"ids": [1]})):
        response = await post(without_detokenizer, path, body)
        assert response.status_code == 501
        assert set(response.json()) == {"error", "error_type"}
        error = response.json()["error"]
        assert "this graph has no detokenizer" in error
        assert str(Path("tokenizer", "1", "detokenizer", "openvino_detokenizer.xml")) in error
    # Everything else still serves.
    assert (await post(without_detokenizer, "/embed", {"inputs": "x"})).status_code == 200
    assert (await post(without_detokenizer, "/v3/tokenize", {"model": GRAPH, "text": "x"})).status_code == 200


async def test_a_large_decode_body_is_checked_and_decoded(server: Server) -> None:
    """Over `DECODE_OFF_LOOP_BYTES` the ids are checked on a worker thread: same answers."""
    row = [7592] * 20_000  # ~120 KB of JSON
    ok = await post(server, "/decode", {"ids": [row, [101]]})
    bad = await post(server, "/decode", {"ids": [row, [101, "x"]]})
    assert ok.status_code == 200
    assert ok.json() == [" ".join(["hello"] * 20_000), ""]
    assert bad.status_code == 400
