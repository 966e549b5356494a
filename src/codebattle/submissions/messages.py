"""What a browser receives about a submission on `/ws/submissions/{id}` (docs/protocol.md),
one function per message, each naming every field it sends.

They are built from what was recorded (`recording.Recorded`), never copied from it: the
fields that route a change to its match or room (match, room, user, problem version) stay
on the server."""

from __future__ import annotations

from typing import Any

from codebattle.submissions.recording import Recorded


def snapshot(submission: dict[str, Any]) -> dict[str, Any]:
    """The submission as `GET /api/submissions/{id}` has it (without code): sent first."""
    return {"v": 1, "type": "snapshot", "submission": submission}


def status(recorded: Recorded) -> dict[str, Any]:
    """A worker started judging."""
    return {"v": 1, "type": "status", "status": recorded.status}


def judged(recorded: Recorded) -> dict[str, Any]:
    """One test, as players may see it (judge/disclosure.py)."""
    return {"v": 1, "type": "test", "test": recorded.test}


def done(recorded: Recorded) -> dict[str, Any]:
    """The final result: the submission as recorded."""
    return {"v": 1, "type": "done", "submission": recorded.final}


def of(recorded: Recorded) -> dict[str, Any]:
    """The message for a recorded change."""
    if recorded.change == "test":
        return judged(recorded)
    if recorded.change == "done":
        return done(recorded)
    return status(recorded)
