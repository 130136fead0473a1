"""How one pre-encoded request reaches the server: OpenAI REST over aiohttp, or KServe v2 gRPC.

Bodies are encoded once before the run (`encode_*`), so that the timed loop only sends bytes
and skims the answer: the client shares the CPU with the server, and every millisecond it
spends parsing is a millisecond the server does not get. A transport never raises for a
failed request; it returns an `Outcome` carrying the error text.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import aiohttp

if TYPE_CHECKING:
    import grpc.aio

MODEL_INFER = "/inference.GRPCInferenceService/ModelInfer"
"""The KServe v2 method path (package `inference`, as OVMS and Triton)."""
GRPC_INPUT = "input"
"""The BYTES input of an OVMS embeddings graph."""
_LENGTH = struct.Struct("<I")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request returned: tokens the server counted (None when it did not say) or an error."""

    ok: bool
    prompt_tokens: int | None = None
    error: str | None = None


class Transport(Protocol):
    """Sends one pre-encoded body holding `documents` texts."""

    async def send(self, body: bytes, documents: int) -> Outcome: ...

    async def close(self) -> None: ...


def encode_openai(texts: Sequence[str], model: str, encoding_format: str) -> bytes:
    """The JSON body of `POST /v3/embeddings` for `texts` (always a list, as OVMS's client)."""
    payload = {"model": model, "input": list(texts), "encoding_format": encoding_format}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def encode_rerank(texts: Sequence[str], model: str, query: str) -> bytes:
    """The JSON body of `POST /v3/rerank` ranking `texts` against `query` (Cohere's shape)."""
    payload = {"model": model, "query": query, "documents": list(texts)}
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def is_rerank_url(url: str) -> bool:
    """True for a Cohere rerank route (`…/rerank`), as OVMS's benchmark client's `ovms_rerank`."""
    return url.split("?", 1)[0].rstrip("/").endswith("/rerank")


def encode_kserve(texts: Sequence[str], model: str) -> bytes:
    """A serialized KServe v2 `ModelInferRequest`: one BYTES tensor `input` of shape [n] in
    `raw_input_contents` (each element prefixed by its 4-byte little-endian length)."""
    from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb

    request = pb.ModelInferRequest(model_name=model)
    request.inputs.add(name=GRPC_INPUT, datatype="BYTES", shape=[len(texts)])
    encoded = [text.encode() for text in texts]
    request.raw_input_contents.append(b"".join(_LENGTH.pack(len(e)) + e for e in encoded))
    return request.SerializeToString()


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def skim_openai(body: bytes, documents: int) -> Outcome:
    """Check an OpenAI embeddings (or Cohere rerank) answer without decoding its vectors.

    Counts items by their `"index"` keys (one per embedding, or per ranked document) and reads
    `usage.prompt_tokens` from the small `usage` object near the end; only when that fails is
    the whole body parsed.
    """
    items = body.count(b'"index"')
    if items != documents:
        return Outcome(
            ok=False,
            error=f"expected {documents} embeddings, got {items}: "
            + _short(body[:400].decode(errors="replace")),
        )
    start = body.rfind(b'"usage"')
    usage: object = None
    if start >= 0:
        brace = body.find(b"{", start)
        end = body.find(b"}", brace)
        try:
            usage = json.loads(body[brace : end + 1])
        except ValueError:
            usage = None
    if usage is None:
        try:
            usage = json.loads(body).get("usage")
        except (ValueError, AttributeError):
            return Outcome(ok=False, error="response is not a JSON object")
    tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
    return Outcome(ok=True, prompt_tokens=tokens if isinstance(tokens, int) else None)


class HttpTransport:
    """POSTs to one URL over a keep-alive connection pool sized for `concurrency`."""

    def __init__(self, url: str, *, concurrency: int, timeout: float) -> None:
        self.url = url
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=concurrency, force_close=False),
            timeout=aiohttp.ClientTimeout(total=timeout),
            headers={"Content-Type": "application/json"},
        )

    async def send(self, body: bytes, documents: int) -> Outcome:
        try:
            async with self._session.post(self.url, data=body) as response:
                data = await response.read()
                if response.status != 200:
                    return Outcome(
                        ok=False, error=f"HTTP {response.status}: {_short(data.decode(errors='replace'))}"
                    )
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            return Outcome(ok=False, error=f"{type(exc).__name__}: {_short(str(exc))}")
        return skim_openai(data, documents)

    async def close(self) -> None:
        await self._session.close()


class GrpcTransport:
    """Calls KServe v2 ModelInfer with pre-serialized requests on one grpc.aio channel.

    One HTTP/2 channel multiplexes every concurrent call, as tritonclient's aio client does.
    """

    def __init__(self, target: str, *, timeout: float) -> None:
        import grpc.aio

        from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb

        self._grpc = grpc
        self._response_type = pb.ModelInferResponse
        self._timeout = timeout
        self._channel: grpc.aio.Channel = grpc.aio.insecure_channel(
            target,
            options=[("grpc.max_receive_message_length", 256 * 1024 * 1024)],
        )
        # No serializers: the request is already bytes, and the reply is parsed in `send`.
        self._call = self._channel.unary_unary(MODEL_INFER)

    async def send(self, body: bytes, documents: int) -> Outcome:
        try:
            raw = await self._call(body, timeout=self._timeout)
        except self._grpc.aio.AioRpcError as exc:
            return Outcome(ok=False, error=f"gRPC {exc.code().name}: {_short(exc.details() or '')}")
        reply = self._response_type.FromString(raw)
        rows = reply.outputs[0].shape[0] if reply.outputs and reply.outputs[0].shape else 0
        if rows != documents:
            return Outcome(ok=False, error=f"expected {documents} embeddings, got {rows}")
        tokens = (
            reply.parameters["prompt_tokens"].int64_param if "prompt_tokens" in reply.parameters else None
        )
        return Outcome(ok=True, prompt_tokens=tokens)

    async def close(self) -> None:
        await self._channel.close()
