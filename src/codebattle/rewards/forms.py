"""What the rewards' forms share: the request key a form carries so that one sent twice
(a double click, a retried POST) makes one purchase or one exchange."""

from __future__ import annotations

import re

REQUEST_KEY = re.compile(r"[A-Za-z0-9_-]{8,64}")


def valid_request_key(value: object) -> bool:
    """A form's request key: 8 to 64 letters, digits, "_" or "-" (the whole value)."""
    return isinstance(value, str) and REQUEST_KEY.fullmatch(value) is not None
