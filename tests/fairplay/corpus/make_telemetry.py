"""Write each corpus case's telemetry.json from the [telemetry] profile in its case.toml.

Deterministic: the random numbers are seeded by the case's path, so running it again gives
the same files (they are committed; the test reads only them). A case without a
[telemetry] table is left alone: no telemetry.json (the client sent none: paste and burst
are unavailable), or a hand-written one. Run from anywhere:
`python tests/fairplay/corpus/make_telemetry.py [case dir ...]` (no argument: every case).

Profile keys (all optional):
  typed     share of the code's text, indentation left out (the editor indents), that was
            typed key by key (default 1.0)
  deletes   characters typed and deleted again, as a share of those typed (default 0.12)
  internal  how many pastes of text copied inside the page (a duplicated line, a moved
            block: 20-120 characters each, on top of the typing)
  external  the pastes from outside the page, each as a share of the code's length
  small     how many small pastes from outside (under 40 characters: a name, a sample line)
  paste_at  when the external pastes happen: "start", "end" or "spread" (default "spread")
  blurs     how many times the page lost focus (and regained it)
  runs      how many times the examples were run (default 1)
Times are server milliseconds from a fixed start; the case's solve_seconds is the length.
"""

from __future__ import annotations

import json
import random
import sys
import tomllib
import zlib
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
START = 1_796_000_000_000  # a fixed server time (ms): the files never change with the clock
EXTENSIONS = {"python": "py", "cpp": "cpp", "java": "java"}


def typed_text(code: str) -> str:
    """What a player types for `code`: every line without its indentation, and newlines."""
    return "\n".join(line.strip() for line in code.splitlines())


def events_for(case: Path) -> list[dict[str, Any]] | None:
    meta = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    profile = meta.get("telemetry")
    if profile is None:
        return None
    code = (case / f"code.{EXTENSIONS[meta['language']]}").read_text(encoding="utf-8")
    rng = random.Random(zlib.crc32(case.relative_to(HERE).as_posix().encode()))
    length = int(meta["solve_seconds"]) * 1000
    events: list[dict[str, Any]] = []

    def moment(lo: float = 0.02, hi: float = 0.98) -> int:
        return START + int(length * rng.uniform(lo, hi))

    typed = int(len(typed_text(code)) * float(profile.get("typed", 1.0)))
    typed += int(typed * float(profile.get("deletes", 0.12)))
    while typed > 0:  # bursts flushed every 5 s of activity, 2-6 characters a second
        span = rng.randint(1500, 5000)
        chars = min(typed, max(1, int(span / 1000 * rng.uniform(2.0, 6.0))))
        deletes = rng.randint(0, max(0, chars // 6))
        events.append({"kind": "typing", "at": moment(), "span": span, "chars": chars,
                       "deletes": deletes})  # fmt: skip
        typed -= chars
    for _ in range(int(profile.get("internal", 0))):
        chars = rng.randint(20, 120)
        events.append({"kind": "paste", "at": moment(0.3, 0.95), "chars": chars,
                       "lines": max(1, chars // 30), "internal": True})  # fmt: skip
    when = str(profile.get("paste_at", "spread"))
    window = {"start": (0.01, 0.15), "end": (0.85, 0.97), "spread": (0.05, 0.9)}[when]
    for share in profile.get("external", []):
        chars = max(1, int(len(code) * float(share)))
        lines = max(1, int(code.count("\n") * float(share)))
        events.append({"kind": "paste", "at": moment(*window), "chars": chars, "lines": lines,
                       "internal": False})  # fmt: skip
    for _ in range(int(profile.get("small", 0))):
        chars = rng.randint(3, 36)
        events.append({"kind": "paste", "at": moment(), "chars": chars, "lines": 1,
                       "internal": False})  # fmt: skip
    for _ in range(int(profile.get("blurs", 0))):
        at = moment(0.05, 0.9)
        events.append({"kind": "blur", "at": at})
        events.append({"kind": "focus", "at": at + rng.randint(2000, 90000)})
    for _ in range(int(profile.get("runs", 1))):
        events.append({"kind": "run", "at": moment(0.5, 0.99)})
    events.sort(key=lambda e: (e["at"], e["kind"]))
    return events


def write(case: Path) -> None:
    events = events_for(case)
    target = case / "telemetry.json"
    if events is None:
        return
    lines = ",\n".join(json.dumps(e, separators=(",", ":")) for e in events)
    target.write_text(f"[\n{lines}\n]\n", encoding="utf-8")  # one event a line


def main(args: list[str]) -> None:
    cases = [Path(a).resolve() for a in args] or sorted(
        p.parent for p in HERE.glob("*/*/case.toml")
    )
    for case in cases:
        write(case)
    print(f"{len(cases)} cases written")


if __name__ == "__main__":
    main(sys.argv[1:])
