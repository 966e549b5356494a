"""One definition of a valid row id, shared by HTTP routes, request bodies and sockets.

Ids are stored as 64-bit signed integers; anything outside 1..MAX_ID cannot name a row, so
it is treated exactly like an id that names nothing (404 / 422 over HTTP, close 4404 on a
socket) instead of reaching the database and overflowing there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

MAX_ID = 2**63 - 1

# For FastAPI path parameters: out of range is a 422 before the handler runs.
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def valid_id(value: object) -> int | None:
    """The id `value` names, or None if it cannot name a row.

    Accepts an int (not a bool) or a string of ASCII digits, in 1..MAX_ID. Floats (JSON's
    `1e23`), signs, spaces and anything else are None, so callers answer "not found".
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        # A socket path arrives as text; a huge digit string must not become a huge int.
        if not value.isascii() or not value.isdigit() or len(value) > len(str(MAX_ID)):
            return None
        value = int(value)
    if isinstance(value, int) and 1 <= value <= MAX_ID:
        return value
    return None
