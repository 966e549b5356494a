"""Database behaviour, on SQLite and on PostgreSQL alike."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from codebattle.accounts import service as accounts
from codebattle.db.session import Database
from codebattle.errors import UserError
from codebattle.judge.package import PackageError
from codebattle.problems.importer import import_package
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.storage import LocalBlobStore
from codebattle.submissions import recording
from codebattle.submissions import service as submissions
from codebattle.submissions.models import SubmissionTest
from tests.support.factories import make_problem_version, make_submission, make_user
from tests.support.hosts import PROBLEMS


@pytest.fixture
def blobs(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


async def test_reimport_makes_a_new_version_and_keeps_past_results(
    db: Database, blobs: LocalBlobStore, tmp_path: Path
) -> None:
    package = tmp_path / "hello-battle"
    shutil.copytree(PROBLEMS / "hello-battle", package)
    async with db.session() as session:
        first = await import_package(session, blobs, package)
        again = await import_package(session, blobs, package)
    assert (first.status, first.version) == ("created", 1)
    assert (again.status, again.version) == ("unchanged", 1)

    async with db.session() as session:
        user = await make_user(session, "alice", locale="ko")
        old = await make_submission(session, blobs, user, code="print(1)")
        for event in (
            {"submission": old.id, "type": "started"},
            {"submission": old.id, "type": "test", "index": 0,
             "test": {"name": "sample/1", "verdict": "WA", "time": 0.01, "memory": 1}},
            {"submission": old.id, "type": "done", "result": {"verdict": "WA"}},
        ):  # fmt: skip
            await recording.record(session, event)

    statement = package / "problem_statement" / "problem.en.md"
    statement.write_text(statement.read_text() + "\nA clarification.\n")
    async with db.session() as session:
        changed = await import_package(session, blobs, package)
    assert (changed.status, changed.version) == ("updated", 2)

    async with db.session() as session:
        problem = await session.scalar(select(Problem).where(Problem.slug == "hello-battle"))
        assert problem is not None and problem.current_version is not None
        assert problem.current_version.number == 2
        assert "clarification" in problem.current_version.statements["en"]
        versions = await session.scalar(select(func.count()).select_from(ProblemVersion))
        assert versions == 2
        past = await submissions.to_json(
            session, await submissions.get_owned(session, user, old.id)
        )
        assert past["verdict"] == "WA" and len(past["tests"]) == 1
        first_version = await session.get(ProblemVersion, old.problem_version_id)
        assert first_version is not None and first_version.number == 1
        assert blobs.exists(first_version.package_key)  # the old archive stays


async def test_import_reads_metadata_samples_and_templates(
    db: Database, blobs: LocalBlobStore
) -> None:
    async with db.session() as session:
        await import_package(session, blobs, PROBLEMS / "hello-battle")
        problem = await session.scalar(select(Problem).where(Problem.slug == "hello-battle"))
    assert problem is not None and problem.current_version is not None
    version = problem.current_version
    assert set(version.names) == {"en", "ko"} and set(version.statements) >= {"en", "ko"}
    assert version.samples and version.samples[0]["input"].strip()
    assert set(version.templates) == {"python", "pypy", "cpp", "java"}
    assert "public class Main" in version.templates["java"]
    assert version.time_limit > 0 and version.test_count > 5
    assert problem.difficulty in {"easy", "medium", "hard"}


async def test_a_bad_package_is_a_precise_error(
    db: Database, blobs: LocalBlobStore, tmp_path: Path
) -> None:
    package = tmp_path / "broken"
    shutil.copytree(PROBLEMS / "hello-battle", package)
    with (package / "problem.yaml").open("a") as handle:
        handle.write("difficulty: impossible\n")
    async with db.session() as session:
        with pytest.raises(PackageError) as caught:
            await import_package(session, blobs, package)
    assert "problem.yaml" in str(caught.value) and "difficulty" in str(caught.value)


@pytest.mark.parametrize("batched", [False, True])
async def test_results_are_recorded_exactly_once(
    db: Database, blobs: LocalBlobStore, batched: bool
) -> None:
    async with db.session() as session:
        await make_problem_version(session, blobs)
        user = await make_user(session, "bob")
        sub = await make_submission(session, blobs, user, code="print(8)")
    test = {"name": "sample/1", "verdict": "AC", "time": 0.01, "memory": 5, "sample": True}
    events = [
        {"submission": sub.id, "type": "started"},
        {"submission": sub.id, "type": "test", "index": 0, "test": test},
        # The job is redelivered: a second worker starts over and repeats everything.
        {"submission": sub.id, "type": "started"},
        {"submission": sub.id, "type": "test", "index": 0, "test": test},
        {"submission": sub.id, "type": "test", "index": 1, "test": {**test, "name": "secret/1"}},
        {"submission": sub.id, "type": "done", "result": {"verdict": "AC", "tests_total": 2}},
        {"submission": sub.id, "type": "done", "result": {"verdict": "WA", "tests_total": 2}},
        {"submission": sub.id, "type": "test", "index": 2, "test": test},
    ]
    published = []
    if batched:  # as the queue hands them over when they arrive together
        async with db.session() as session:
            published = await recording.record_batch(session, events)
    else:
        for event in events:
            async with db.session() as session:
                published.append(await recording.record(session, event))
    assert [m.change if m else None for m in published] == [
        "status", "test", "status", "test", "test", "done", None, None,
    ]  # fmt: skip
    async with db.session() as session:
        final = await submissions.to_json(
            session, await submissions.get_owned(session, user, sub.id)
        )
        rows = await session.scalar(
            select(func.count())
            .select_from(SubmissionTest)
            .where(SubmissionTest.submission_id == sub.id)
        )
    assert final["status"] == "done" and final["verdict"] == "AC"
    assert rows == 2 and final["tests_passed"] == 2


async def test_nicknames_and_tokens(db: Database) -> None:
    async with db.session() as session:
        alice = await accounts.sign_in_nickname(session, "Alice", "ko")
        again = await accounts.sign_in_nickname(session, "alice", "en")
        assert again.id == alice.id  # the same identity, whatever the case
        korean = await accounts.sign_in_nickname(session, "김코딩", "ko")
        assert korean.id != alice.id
        for bad in ("a", "x" * 21, "semi;colon", "<b>", 42):
            with pytest.raises(UserError):
                await accounts.sign_in_nickname(session, bad, "ko")
        token, plain = await accounts.create_token(session, alice, "ci")
        assert plain.startswith("cb_") and token.token_hash != plain
        found = await accounts.user_by_token(session, plain)
        assert found is not None and found.id == alice.id
        assert await accounts.user_by_token(session, plain + "x") is None
        with pytest.raises(UserError):
            await accounts.revoke_token(session, korean, token.id)  # not theirs
        await accounts.revoke_token(session, alice, token.id)
        assert await accounts.user_by_token(session, plain) is None
