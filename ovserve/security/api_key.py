"""The API key check of `--api_key_file` / env `API_KEY`, shared by both front ends.

The key travels as `Authorization: Bearer <key>` (REST header, gRPC metadata `authorization`).
The comparison is constant-time over the UTF-8 bytes (`hmac.compare_digest`), so response
timing does not reveal how much of a guess was right. Only the health routes stay open.
"""

from __future__ import annotations

import hmac

from ovserve.errors import Unauthenticated

# OVMS's UNAUTHORIZED text.
UNAUTHORIZED_MESSAGE = "Unauthorized request due to invalid or missing api-key"

_SCHEME = "bearer "


class ApiKey:
    """Checks `Authorization` values against one configured key."""

    def __init__(self, key: str) -> None:
        if not key:
            raise ValueError("an empty API key disables authentication; pass None instead")
        self._key = key.encode()

    def accepts(self, authorization: str | None) -> bool:
        """True when `authorization` is `Bearer <key>` (scheme case-insensitive)."""
        if authorization is None or authorization[: len(_SCHEME)].lower() != _SCHEME:
            # Still compare, so a missing header costs about as long as a wrong one.
            hmac.compare_digest(self._key, self._key)
            return False
        offered = authorization[len(_SCHEME) :].strip().encode("utf-8", "surrogateescape")
        return hmac.compare_digest(offered, self._key)

    def check(self, authorization: str | None) -> None:
        """Raises `Unauthenticated` (401 / UNAUTHENTICATED) unless `accepts(authorization)`."""
        if not self.accepts(authorization):
            raise Unauthenticated(UNAUTHORIZED_MESSAGE)
