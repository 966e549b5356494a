"""One definition of a valid row id, shared by HTTP routes, request bodies and sockets.

Ids are INTEGER columns; anything outside 1..MAX_ID cannot name a row, so it is treated
exactly like an id that names nothing (404 for a path, 422 naming a body field, close 4404 on
a socket) instead of reaching the database and overflowing there.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path
from pydantic import Field, StrictInt

from codebattle.db.base import MAX_ID  # the id columns' range
from codebattle.errors import UserError

__all__ = ["MAX_ID", "BodyId", "Id", "before_of", "valid_id"]

# For FastAPI path parameters: out of range fails validation before the handler runs (the
# app answers a path that fails validation with 404, as for an id that names nothing).
Id = Annotated[int, Path(ge=1, le=MAX_ID)]

# For ids in JSON bodies: a JSON integer in range, else a 422 naming the field (lax ints
# would take `true` as 1 and `1e23` as a 23-digit id).
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


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


def before_of(value: str) -> int | None:
    """The `before` of an "older" page (a list paged by row id): none for a blank value,
    else the row id; anything else ("²", 999999999999) names no page: 404."""
    if not value.strip():
        return None
    found = valid_id(value.strip())
    if found is None:
        raise UserError(404, "not_found")
    return found
