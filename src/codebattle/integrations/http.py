"""What every outside HTTP client here shares: one TLS context per process, verified
against certifi's roots (building one per client costs tens of milliseconds)."""

from __future__ import annotations

import ssl
from functools import cache

import certifi


@cache
def tls() -> ssl.SSLContext:
    """The process's TLS context for outside services (certifi's roots)."""
    return ssl.create_default_context(cafile=certifi.where())
