"""Replays in the database, on SQLite and PostgreSQL: a player's code snapshots stay within
their caps (count and bytes, identical code skipped), a replay is read completely through
its pages, and the AI opponent's code is in none of them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from codebattle.accounts import service as accounts
from codebattle.accounts.models import User
from codebattle.battles import replay
from codebattle.battles import service as battles
from codebattle.battles.models import CodeSnapshot, MatchRow
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.storage import LocalBlobStore
from codebattle.submissions import service as submissions
from tests.battles.test_service import new_match

CAPS = replay.Caps(count=5, bytes=1000)


def code(n: int, size: int = 100) -> str:
    """Distinct code of `size` bytes."""
    head = f"print({n})\n"
    return head + "#" * (size - len(head) - 1) + "\n"


async def snapshots_of(db: Database, match_id: int, user_id: int) -> list[CodeSnapshot]:
    async with db.reading() as session:
        return list(
            await session.scalars(
                select(CodeSnapshot)
                .where(CodeSnapshot.match_id == match_id, CodeSnapshot.user_id == user_id)
                .order_by(CodeSnapshot.id)
            )
        )


async def test_a_players_snapshots_stay_within_the_count_and_byte_caps(
    db: Database, tmp_path: Path
) -> None:
    match_id, a, b = await new_match(db, tmp_path)
    async with db.session() as session:
        for n in range(40):  # the reconnect loop: new code on every socket close
            assert await replay.add_snapshot(session, match_id, a, "python", code(n), CAPS, n)
        await replay.add_snapshot(session, match_id, b, "python", code(1000), CAPS, 1)
    kept = await snapshots_of(db, match_id, a)
    assert len(kept) == CAPS.count
    # The first ones as they were; the newest overwritten with the latest code.
    assert [s.code for s in kept] == [code(n) for n in range(4)] + [code(39)]
    assert kept[-1].at == 39 and all(s.size == 100 for s in kept)
    assert [s.code for s in await snapshots_of(db, match_id, b)] == [code(1000)]  # per player

    # The byte cap: big code fills it before the count does; the total stays bounded.
    match_id, a, _b = await new_match(db, tmp_path)
    async with db.session() as session:
        for n in range(40):
            await replay.add_snapshot(session, match_id, a, "python", code(n, 400), CAPS, n)
    kept = await snapshots_of(db, match_id, a)
    assert len(kept) == 2 and kept[-1].code == code(39, 400)
    assert sum(s.size for s in kept[:-1]) <= CAPS.bytes  # all but the newest within the cap
    assert sum(s.size for s in kept) <= CAPS.bytes + 400
    assert kept[0].size == len(code(0, 400).encode())


async def test_identical_snapshots_are_skipped(db: Database, tmp_path: Path) -> None:
    match_id, a, _b = await new_match(db, tmp_path)
    async with db.session() as session:
        assert await replay.add_snapshot(session, match_id, a, "python", code(1), CAPS, 1)
        for at in range(2, 30):  # reconnecting without typing stores nothing
            assert not await replay.add_snapshot(session, match_id, a, "python", code(1), CAPS, at)
        # Another language is another state of the editor; an earlier code comes back.
        assert await replay.add_snapshot(session, match_id, a, "cpp", code(1), CAPS, 30)
        assert await replay.add_snapshot(session, match_id, a, "cpp", code(2), CAPS, 31)
        assert await replay.add_snapshot(session, match_id, a, "cpp", code(1), CAPS, 32)
    kept = await snapshots_of(db, match_id, a)
    assert [(s.language, s.code, s.at) for s in kept] == [
        ("python", code(1), 1), ("cpp", code(1), 30), ("cpp", code(2), 31), ("cpp", code(1), 32),
    ]  # fmt: skip


async def read_all(
    db: Database, match_id: int, blobs: LocalBlobStore, limit: int, page_bytes: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The first page and every page after it, as a client follows `next`."""
    async with db.reading() as session:
        row = await session.get(MatchRow, match_id)
        assert row is not None
        first = await replay.first_page(session, row, blobs, limit=limit, page_bytes=page_bytes)
        pages = [first]
        while pages[-1]["next"] is not None:
            cursor = replay.parse_cursor(pages[-1]["next"])
            pages.append(
                await replay.code_page(
                    session, row, blobs, cursor, limit=limit, page_bytes=page_bytes
                )
            )
            assert len(pages) < 100
    return first, pages


async def play_and_finish(
    db: Database, blobs: LocalBlobStore, match_id: int, players: list[int], starts_at: float
) -> list[int]:
    """Start the match, let each player submit twice, then end it (the last gives up)."""
    ids = []
    async with db.session() as session:
        await battles.apply(session, match_id, None, starts_at)  # the countdown is over
    for n in range(2):
        for user_id in players:
            async with db.session() as session:
                user = await session.get(User, user_id)
                assert user is not None
                target = await battles.match_target(session, match_id, user_id, starts_at + 1)
                made, _job = await submissions.create(
                    session, blobs, user, None, "python", code(100 * user_id + n, 3000),
                    max_code_bytes=64 * 1024, target=target, match_id=match_id,
                )  # fmt: skip
                await session.commit()
                ids.append(made.id)
    async with db.session() as session:
        await battles.apply(session, match_id, {"type": "give_up", "user": players[-1]},
                            starts_at + 60)  # fmt: skip
    return ids


async def test_a_replay_larger_than_one_page_is_read_completely_through_the_pages(
    db: Database, tmp_path: Path
) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    match_id, a, b = await new_match(db, tmp_path)
    big = replay.Caps(count=1000, bytes=10**7)
    async with db.session() as session:
        for n in range(23):
            for user_id in (a, b):
                size = 500 if n % 5 else 2500  # now and then one bigger than a page
                await replay.add_snapshot(
                    session, match_id, user_id, "python", code(n, size), big, n + user_id / 10
                )
    submitted = await play_and_finish(db, blobs, match_id, [a, b], starts_at=6.0)
    first, pages = await read_all(db, match_id, blobs, limit=7, page_bytes=2000)

    assert {e["type"] for e in first["events"]} >= {"started", "finished"}
    assert [s["id"] for s in first["submissions"]] == submitted
    items = [item for page in pages for item in page["code"]]
    snapshots = [i for i in items if i["kind"] == "snapshot"]
    async with db.reading() as session:
        stored = list(
            await session.scalars(
                select(CodeSnapshot.id).where(CodeSnapshot.match_id == match_id)
                .order_by(CodeSnapshot.id)
            )
        )  # fmt: skip
    assert [s["id"] for s in snapshots] == stored  # each once, in order, none missing
    assert [i["id"] for i in items if i["kind"] == "submission"] == submitted
    alices = [i["code"] for i in items if i["kind"] == "submission" and i["user"] == a]
    assert alices == [code(100 * a + n, 3000) for n in range(2)]
    # Every page within its bounds: `limit` items, and the bytes unless one item alone.
    assert len(pages) > 10
    for page in pages:
        assert len(page["code"]) <= 7
        size = sum(len(i["code"].encode()) for i in page["code"])
        assert size <= 2000 or len(page["code"]) == 1


async def test_the_ai_opponents_code_is_in_no_replay_page(db: Database, tmp_path: Path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    _old, a, _b = await new_match(db, tmp_path)
    async with db.session() as session:
        old = await session.get(MatchRow, _old)
        assert old is not None
        ai = await accounts.sign_in_nickname(session, "robot", "en")
        ai.is_ai = True
        row = await battles.create(
            session, mode="ai", problem_id=old.problem_id,
            problem_version_id=old.problem_version_id, settings=battles.load(old.fsm).settings,
            rated=False, players=[(a, False), (ai.id, True)],
        )  # fmt: skip
        await session.commit()
        match_id, ai_id = row.id, ai.id
    async with db.session() as session:
        for user_id in (a, ai_id):  # had the AI any snapshots, they would stay hidden too
            await replay.add_snapshot(session, match_id, user_id, "python", code(user_id), CAPS)
    submitted = await play_and_finish(db, blobs, match_id, [ai_id, a], time.time() + 10)
    first, pages = await read_all(db, match_id, blobs, limit=2, page_bytes=10**6)

    # Its attempts stay, with their verdict and time; its code does not.
    assert [s["user"] for s in first["submissions"]] == [ai_id, a, ai_id, a]
    assert [s["id"] for s in first["submissions"]] == submitted
    assert all({"verdict", "passed", "time", "at"} <= set(s) and "code" not in s
               for s in first["submissions"])  # fmt: skip
    items = [item for page in pages for item in page["code"]]
    assert {i["user"] for i in items} == {a}
    assert [i["kind"] for i in items] == ["snapshot", "submission", "submission"]
    ai_code = {code(ai_id)} | {code(100 * ai_id + n, 3000) for n in range(2)}
    assert all(i["code"] not in ai_code for i in items)


def test_a_replay_cursor_is_the_previous_pages_next_or_refused() -> None:
    assert replay.parse_cursor(None) == ("s", 0)
    assert replay.parse_cursor("s41") == ("s", 41)
    assert replay.parse_cursor("u9999999999") == ("u", 2**31 - 1)  # nothing lies beyond
    for bad in ("", "x1", "s", "s-1", "s1.5", "u99999999999", "s 1", "u１"):
        with pytest.raises(UserError) as refused:
            replay.parse_cursor(bad)
        assert refused.value.status == 422 and refused.value.key == "replay_cursor_bad"


async def test_snapshots_count_their_bytes(db: Database, tmp_path: Path) -> None:
    match_id, a, _b = await new_match(db, tmp_path)
    async with db.session() as session:
        await replay.add_snapshot(session, match_id, a, "python", "print('한글')\n", CAPS)
        total = await session.scalar(select(func.sum(CodeSnapshot.size)))
    assert total == len("print('한글')\n".encode())
