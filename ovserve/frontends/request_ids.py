"""Request ids of the access log, shared by both front ends (no framework imports)."""

from __future__ import annotations

import re
import uuid

# An echoed id must be harmless in headers and logs: short, printable, no spaces or quotes.
_SAFE_ID = re.compile(r"[A-Za-z0-9._:/+=@-]{1,128}")


def request_id_of(offered: str | None) -> str:
    """The client's id (`X-Request-Id` / metadata `x-request-id`) when safe to echo, else a new one."""
    if offered is not None and _SAFE_ID.fullmatch(offered):
        return offered
    return uuid.uuid4().hex
