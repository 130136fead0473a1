"""TLS and mutual TLS on both front ends: plain-text clients are refused, TLS clients served,
and with a client CA only clients with a certificate from that CA get in."""

from __future__ import annotations

import ssl
from pathlib import Path

import aiohttp
import grpc
import pytest

from ovserve._proto.kserve import grpc_predict_v2_pb2 as pb
from ovserve.config import TlsSettings
from tests.grpc.stub import InferenceStub
from tests.running import running_server
from tests.security.certs import Certs, make_certs
from tests.support.toys import write_toy_workspace


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(Path(tmp_path_factory.mktemp("certs")))


def _client_context(certs: Certs, cert: Path | None = None, key: Path | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=certs.ca)
    if cert is not None and key is not None:
        context.load_cert_chain(cert, key)
    return context


async def _rest_status(url: str, context: ssl.SSLContext | None) -> int | str:
    """The status of GET `url`, or "refused" when the connection or handshake fails."""
    try:
        async with aiohttp.ClientSession() as session, session.get(url, ssl=context or False) as r:
            return r.status
    except (aiohttp.ClientError, ssl.SSLError, ConnectionError):
        return "refused"


def _grpc_credentials(
    certs: Certs, cert: Path | None = None, key: Path | None = None
) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=certs.ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )


async def _grpc_live(channel: grpc.aio.Channel) -> str:
    try:
        await InferenceStub(channel).ServerMetadata(pb.ServerMetadataRequest(), timeout=5)
    except grpc.aio.AioRpcError as exc:
        return str(exc.code().name)
    return "OK"


async def test_tls_serves_tls_clients_and_refuses_plain_text(tmp_path: Path, certs: Certs) -> None:
    tls = TlsSettings(certfile=certs.server_cert, keyfile=certs.server_key)
    async with running_server(write_toy_workspace(tmp_path), tls=tls) as server:
        assert await _rest_status(f"https://127.0.0.1:{server.rest_port}/v2", _client_context(certs)) == 200
        assert await _rest_status(f"http://127.0.0.1:{server.rest_port}/v2", None) == "refused"
        secure = grpc.aio.secure_channel(f"127.0.0.1:{server.grpc_port}", _grpc_credentials(certs))
        async with secure as channel:
            assert await _grpc_live(channel) == "OK"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            assert await _grpc_live(channel) == "UNAVAILABLE"


async def test_mutual_tls_needs_a_client_certificate_from_the_ca(tmp_path: Path, certs: Certs) -> None:
    tls = TlsSettings(certfile=certs.server_cert, keyfile=certs.server_key, ca_certfile=certs.ca)
    async with running_server(write_toy_workspace(tmp_path), tls=tls) as server:
        url = f"https://127.0.0.1:{server.rest_port}/v2"
        assert await _rest_status(url, _client_context(certs, certs.client_cert, certs.client_key)) == 200
        assert await _rest_status(url, _client_context(certs)) == "refused"
        assert await _rest_status(url, _client_context(certs, certs.rogue_cert, certs.rogue_key)) == "refused"
        address = f"127.0.0.1:{server.grpc_port}"
        for cert, key, expected in [
            (certs.client_cert, certs.client_key, "OK"),
            (None, None, "UNAVAILABLE"),
            (certs.rogue_cert, certs.rogue_key, "UNAVAILABLE"),
        ]:
            async with grpc.aio.secure_channel(address, _grpc_credentials(certs, cert, key)) as channel:
                assert await _grpc_live(channel) == expected, cert
