"""TLS for the REST front end (stdlib `ssl`); gRPC credentials live in its own front end.

Without a client CA the server presents its certificate and accepts any client; with
`ca_certfile` it requires a client certificate signed by that CA (mutual TLS).
"""

from __future__ import annotations

import ssl

from ovserve.config import TlsSettings


def server_ssl_context(tls: TlsSettings) -> ssl.SSLContext:
    """A server-side context (TLS 1.2+). Raises `OSError`/`ssl.SSLError` on unreadable files."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(tls.certfile, tls.keyfile)
    if tls.ca_certfile is not None:
        context.load_verify_locations(cafile=tls.ca_certfile)
        context.verify_mode = ssl.CERT_REQUIRED
    return context
