"""The malformed-request corpus: what its REST and gRPC cases share.

The cases are in `rest_corpus` (method, path, body, headers → status, message) and
`grpc_corpus` (request builder → status code, message); messages are substrings of the answer.

The server under test serves the embeddings workspace with `CORPUS_LIMITS` (small limits, so
the limit cases stay small). G is the graph, E its embeddings model.
"""

from __future__ import annotations

from ovserve.config import RequestLimits
from tests.support.models import DEFAULT_GRAPH_NAME

G = DEFAULT_GRAPH_NAME
E = f"{G}_embeddings_model"
CORPUS_LIMITS = RequestLimits(
    max_body_bytes=1 << 20, max_grpc_message_bytes=1 << 20, max_inputs_per_request=64
)
INVALID_JSON = "The file is not valid json - "
EXEC = "Mediapipe execution failed"
