"""Text one user writes for others to read (chat, room titles, announcements): what it keeps.

Characters that are not printable go: NUL and the other control characters, and the format
characters, among them the bidirectional overrides and isolates (U+202A-U+202E,
U+2066-U+2069) and the invisible marks, which can hide words or make a line read backwards on
everyone else's screen. Printable text in any script stays.
"""

from __future__ import annotations


def printable(text: str, *, newlines: bool = False) -> str:
    """`text` without its unprintable characters (newlines kept if `newlines`), stripped of
    surrounding whitespace."""
    return "".join(ch for ch in text if ch.isprintable() or (newlines and ch == "\n")).strip()
