"""Accepted game submissions examined (fairplay.service.examine), on SQLite and PostgreSQL:
a copy with renamed variables is stored against the submission it copies, with its
fragments; an independent solution is not; examining again adds nothing; a copy of the
reference solution (what the AI opponent plays) is stored as one; practice submissions and
code lost from blob storage are left alone; the judge's recorder examines what it accepts."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from codebattle import runtime
from codebattle.battles import service as battles
from codebattle.db.session import Database
from codebattle.fairplay import service as fairplay
from codebattle.fairplay.models import SimilarityMatch, SubmissionFingerprint
from codebattle.judge.jobs import Event
from codebattle.models import ProblemVersion, Submission, User
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from tests.support.factories import (
    GAME,
    make_match,
    make_problem_version,
    make_submission,
    make_user,
)
from tests.support.services import FakeServices
from tests.support.site import settings_for

SLUG = "island-count"

ALICE = """import sys


def main():
    data = sys.stdin.read().split()
    rows, cols = int(data[0]), int(data[1])
    grid = [list(line) for line in data[2:2 + rows]]
    seen = [[False] * cols for _ in range(rows)]
    count = 0
    biggest = 0
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] != "#" or seen[r][c]:
                continue
            count += 1
            seen[r][c] = True
            todo = [(r, c)]
            size = 0
            while todo:
                y, x = todo.pop()
                size += 1
                for dy, dx in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    ny, nx = y + dy, x + dx
                    if (0 <= ny < rows and 0 <= nx < cols and grid[ny][nx] == "#"
                            and not seen[ny][nx]):
                        seen[ny][nx] = True
                        todo.append((ny, nx))
            biggest = max(biggest, size)
    print(count, biggest)


main()
"""

# Alice's, every name changed, comments added, reformatted: a copy.
BOB_COPY = """import sys


def main():
    tokens = sys.stdin.read().split()
    h, w = int(tokens[0]), int(tokens[1])
    board = [list(s) for s in tokens[2:2 + h]]
    visited = [[False] * w for _ in range(h)]
    # count islands and the largest
    total = 0
    best = 0
    for i in range(h):
        for j in range(w):
            if board[i][j] != "#" or visited[i][j]:
                continue
            total += 1
            visited[i][j] = True
            stack = [(i, j)]
            area = 0
            while stack:
                a, b = stack.pop()
                area += 1
                for da, db in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    na, nb = a + da, b + db
                    if (0 <= na < h and 0 <= nb < w
                            and board[na][nb] == "#" and not visited[na][nb]):
                        visited[na][nb] = True
                        stack.append((na, nb))
            best = max(best, area)
    print(total, best)


main()
"""

# Written independently: union-find over the land cells.
BOB_OWN = """import sys


def find(parent, v):
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v


def solve():
    lines = sys.stdin.read().split()
    n, m = map(int, lines[:2])
    cells = "".join(lines[2:2 + n])
    parent = list(range(n * m))
    for k, ch in enumerate(cells):
        if ch != "#":
            continue
        if k % m and cells[k - 1] == "#":
            parent[find(parent, k)] = find(parent, k - 1)
        if k >= m and cells[k - m] == "#":
            parent[find(parent, k)] = find(parent, k - m)
    sizes = {}
    for k, ch in enumerate(cells):
        if ch == "#":
            root = find(parent, k)
            sizes[root] = sizes.get(root, 0) + 1
    print(len(sizes), max(sizes.values(), default=0))


solve()
"""


@dataclass
class Duel:
    db: Database
    blobs: LocalBlobStore
    version_id: int
    match_id: int
    alice: User
    bob: User


async def running_duel(db: Database, tmp_path: Path) -> Duel:
    """A duel on island-count between alice and bob, its countdown over (it runs)."""
    blobs = LocalBlobStore(tmp_path / "blobs")
    async with db.session() as session:
        version = await make_problem_version(session, blobs, SLUG)
        alice, bob = await make_user(session, "alice"), await make_user(session, "bob")
        row = await make_match(session, version, [alice, bob], now=time.time() - GAME.countdown)
        await session.commit()
        version_id, match_id = version.id, row.id
    async with db.session() as session:
        assert [e.type for e in await battles.apply(session, match_id, None)] == ["started"]
    return Duel(db, blobs, version_id, match_id, alice, bob)


async def submit(duel: Duel, user: User, code: str) -> int:
    """A submission of `code` in the duel (not yet judged)."""
    async with duel.db.session() as session:
        submission, _job = await submissions.create(
            session, duel.blobs, user, None, "python", code, max_code_bytes=65536,
            target=await battles.match_target(session, duel.match_id, user.id),
            match_id=duel.match_id,
        )  # fmt: skip
        await session.commit()
        return submission.id


def done(submission_id: int, verdict: str = "AC") -> Event:
    tests = [{"name": "secret/0", "verdict": verdict, "time": 0.01, "memory": 1024,
              "sample": False}]  # fmt: skip
    result = {"verdict": verdict, "compile_output": "", "message": "", "tests_total": 1,
              "judge_time": 0.1, "tests": tests}  # fmt: skip
    return {"submission": submission_id, "type": "done", "result": result}  # type: ignore[typeddict-item]


async def accept(db: Database, submission_id: int) -> None:
    async with db.session() as session:
        await recording.record_batch(session, [done(submission_id)])


async def accepted(duel: Duel, user: User, code: str) -> int:
    submission_id = await submit(duel, user, code)
    await accept(duel.db, submission_id)
    return submission_id


async def examine(db: Database, blobs: LocalBlobStore, submission_id: int) -> list[dict[str, Any]]:
    """examine in its own session, committed; its rows as plain values."""
    async with db.session() as session:
        rows = await fairplay.examine(session, blobs, submission_id)
        await session.commit()
        return [_plain(row) for row in rows]


def _plain(row: SimilarityMatch) -> dict[str, Any]:
    return {
        "id": row.id, "kind": row.other_kind, "other": row.other_submission_id,
        "language": row.other_language, "score": row.score, "fragments": row.fragments,
    }  # fmt: skip


async def count(db: Database, model: Any) -> int:
    async with db.reading() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_renamed_copy_is_stored_against_the_submission_it_copies(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    original = await accepted(duel, duel.alice, ALICE)
    assert await examine(db, duel.blobs, original) == []  # nothing to compare with yet
    copy = await accepted(duel, duel.bob, BOB_COPY)
    rows = await examine(db, duel.blobs, copy)
    [row] = [r for r in rows if r["kind"] == "submission"]
    assert row["other"] == original and row["language"] == "python"
    assert row["score"] >= 0.8
    assert row["fragments"]["submission"] and row["fragments"]["other"]
    assert all(start <= end for start, end in row["fragments"]["submission"])
    assert await count(db, SubmissionFingerprint) == 2
    # Examining again (a redelivered verdict, two instances) adds nothing.
    assert await examine(db, duel.blobs, copy) == rows
    assert await count(db, SimilarityMatch) == len(rows)
    assert await count(db, SubmissionFingerprint) == 2


async def test_an_independent_solution_is_not_stored(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    original = await accepted(duel, duel.alice, ALICE)
    own = await accepted(duel, duel.bob, BOB_OWN)
    assert await examine(db, duel.blobs, original) == []
    assert await examine(db, duel.blobs, own) == []
    assert await count(db, SimilarityMatch) == 0


async def test_a_copy_of_the_reference_solution_is_stored_as_one(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    async with db.reading() as session:
        version = await session.get(ProblemVersion, duel.version_id)
        assert version is not None
        reference = version.solutions["python"]
    copy = await accepted(duel, duel.bob, reference.replace("islands", "many"))
    rows = await examine(db, duel.blobs, copy)
    assert rows and {r["kind"] for r in rows} == {"reference"}
    assert "python" in {r["language"] for r in rows}
    assert all(r["other"] is None and r["score"] >= 0.8 for r in rows)
    assert await examine(db, duel.blobs, copy) == rows


async def test_practice_and_unaccepted_submissions_are_not_examined(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    async with db.session() as session:
        bob = await session.get(User, duel.bob.id)
        assert bob is not None
        practice = await make_submission(session, duel.blobs, bob, SLUG, code=ALICE)
    await accept(db, practice.id)
    wrong = await submit(duel, duel.alice, ALICE)
    async with db.session() as session:
        await recording.record_batch(session, [done(wrong, "WA")])
    assert await examine(db, duel.blobs, practice.id) == []
    assert await examine(db, duel.blobs, wrong) == []
    assert await count(db, SubmissionFingerprint) == 0


async def test_code_lost_from_blob_storage_gives_nothing(db: Database, tmp_path: Path) -> None:
    duel = await running_duel(db, tmp_path)
    original = await accepted(duel, duel.alice, ALICE)
    empty = LocalBlobStore(tmp_path / "empty")  # the code's blob is not there
    assert await examine(db, empty, original) == []
    assert await count(db, SubmissionFingerprint) == 0


class Services(FakeServices):
    def __init__(self, db: Database, tmp_path: Path, blobs: LocalBlobStore) -> None:
        super().__init__(db, settings_for(tmp_path))
        self.blobs = blobs


async def test_the_fair_play_pass_examines_accepted_game_submissions(
    db: Database, tmp_path: Path
) -> None:
    duel = await running_duel(db, tmp_path)
    services: Any = Services(db, tmp_path, duel.blobs)
    original = await submit(duel, duel.alice, ALICE)
    await runtime.record_and_pass_on(services, [done(original)])
    assert await count(db, SubmissionFingerprint) == 0  # not on the recorder's path
    assert await runtime.fair_play_pass(services) == (1, 0)
    copy = await submit(duel, duel.bob, BOB_COPY)
    await runtime.record_and_pass_on(services, [done(copy)])
    assert await runtime.fair_play_pass(services) == (1, 0)
    assert await runtime.fair_play_pass(services) == (0, 0)  # each once
    assert [r[0] for r in services.logsink.records] == ["submission-log"] * 2
    async with db.reading() as session:
        rows = list(await session.scalars(select(SimilarityMatch)))
        assert [(r.submission_id, r.other_submission_id) for r in rows] == [(copy, original)]
        stored = await session.scalar(select(func.count()).select_from(SubmissionFingerprint))
        assert stored == 2
        assert (await session.get(Submission, copy)) is not None
