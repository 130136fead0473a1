"""The OpenAI client snippet of OVMS's embeddings demo, run against ovserve.

The body of `seed_demo()` is the demo's `openai_client.py` unchanged except for the model name
(sentence-transformers/all-MiniLM-L6-v2, the model `make serve` exports); the rest adds
`--url`/`--model` and a one-line error instead of a traceback when the server is not there.

    .venv/bin/python examples/openai_client/openai_client.py
    .venv/bin/python examples/openai_client/openai_client.py --url http://otherhost:8000/v3 --model my-graph
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import numpy as np
import openai
from openai import OpenAI

DEFAULT_URL = "http://localhost:8000/v3"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def seed_demo(base_url: str, model: str) -> None:
    """The demo's client code; only `base_url` and `model` come from the command line."""
    client = OpenAI(base_url=base_url, api_key="unused")
    embedding_responses = client.embeddings.create(
        input=["That is a happy person", "That is a happy very person"],
        model=model,
    )
    embedding_from_string1 = np.array(embedding_responses.data[0].embedding)
    embedding_from_string2 = np.array(embedding_responses.data[1].embedding)
    cos_sim = np.dot(embedding_from_string1, embedding_from_string2) / (
        np.linalg.norm(embedding_from_string1) * np.linalg.norm(embedding_from_string2)
    )
    print("Similarity score as cos_sim", cos_sim)


def server_message(error: openai.APIStatusError) -> str:
    """The server's own message: the SDK keeps the `error` object of an OpenAI error body."""
    body = error.body
    if isinstance(body, dict) and isinstance(body.get("message"), str):
        return str(body["message"])
    return error.message


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--url", default=DEFAULT_URL, help=f"OpenAI base URL of the server (default {DEFAULT_URL})"
    )
    parser.add_argument("--model", default=DEFAULT_MODEL, help=f"served graph name (default {DEFAULT_MODEL})")
    args = parser.parse_args(argv)
    try:
        seed_demo(args.url, args.model)
    except openai.APIConnectionError as error:
        reason = error.__cause__ or error
        print(
            f"error: cannot reach {args.url}: {reason}. Start the server (make serve) or pass --url.",
            file=sys.stderr,
        )
        return 1
    except openai.APIStatusError as error:
        print(f"error: {args.url} answered {error.status_code}: {server_message(error)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
