"""Helpers of the security tests (fixtures live in conftest.py)."""

from __future__ import annotations

KEY = "s3cret-key"
