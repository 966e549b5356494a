"""`codebattle problems import`: packages into the database and blob storage.

Each import of changed content creates a new ProblemVersion; past submissions keep pointing
at the version they were judged on, so their results never change.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.judge import archive
from codebattle.judge.loader import load_package
from codebattle.judge.package import PackageError, ProblemPackage, TestCase
from codebattle.problems import statements
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.problems.templates import templates_for
from codebattle.storage import BlobStore, content_key

DIFFICULTIES = ("easy", "medium", "hard")
SAMPLE_BYTES = 16 * 1024  # a sample larger than this is shown cut


@dataclass(frozen=True)
class ImportOutcome:
    slug: str
    version: int
    status: str  # "created" | "updated" | "unchanged"
    warnings: tuple[str, ...] = ()


def _read(path: Path, limit: int = SAMPLE_BYTES) -> str:
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    text = data[:limit].decode("utf-8", errors="replace")
    return text + ("\n…" if len(data) > limit else "")


def sample_of(case: TestCase, interactive: bool) -> dict[str, Any]:
    """What the problem page shows of one sample. An interactive sample with an
    `.interaction` log shows the log alone: its .in and .ans are the interactor's data,
    which the format says players must not see."""
    if case.interaction is not None and interactive:
        log = _read(case.interaction)
        return {"name": case.name, "input": "", "answer": "", "interaction": log}
    sample = {"name": case.name, "input": _read(case.input), "answer": _read(case.answer)}
    if case.interaction is not None:
        sample["interaction"] = _read(case.interaction)
    return sample


def _tags(metadata: dict[str, Any]) -> list[str]:
    keywords = metadata.get("keywords") or []
    if isinstance(keywords, str):
        keywords = keywords.split()
    if not isinstance(keywords, list):
        raise PackageError("problem.yaml", "must be a list of words", field="keywords")
    return sorted({str(word).strip().lower() for word in keywords if str(word).strip()})


def _difficulty(metadata: dict[str, Any]) -> str:
    value = str(metadata.get("difficulty", "medium")).lower()
    if value not in DIFFICULTIES:
        raise PackageError(
            "problem.yaml", f"must be one of {', '.join(DIFFICULTIES)}", field="difficulty"
        )
    return value


def reference_solutions(package: ProblemPackage) -> dict[str, str]:
    """The first accepted submission of each language (by file name), if small enough,
    with the package's constants substituted as the judge runs it (2025-09 "Constants")."""
    found: dict[str, str] = {}
    accepted = sorted(
        (s for s in package.submissions if s.expected == "accepted" and s.path.is_file()),
        key=lambda s: s.path.name,
    )
    for submission in accepted:
        if submission.language not in found and submission.path.stat().st_size <= 64 * 1024:
            code = package.substitute(submission.path.read_bytes())
            found[submission.language] = code.decode("utf-8", errors="replace")
    return found


def version_fields(package: ProblemPackage, time_limit: float) -> dict[str, Any]:
    names = dict(package.names) or {"en": package.short_name}
    return {
        "names": names,
        # The Markdown statements as written; import_package stores statements.build's
        # instead (LaTeX converted, image links pointed at the asset route).
        "statements": {
            # 2025-09 `constants`: {{name}} in a Markdown statement is the constant's text.
            lang: package.substitute(path.read_bytes()).decode("utf-8", errors="replace")
            for lang, path in sorted(package.statements.items())
        },
        "samples": [sample_of(case, package.interactive) for case in package.samples],
        "templates": templates_for(package.root, package.languages),
        # The AI opponent plays these: only in languages the problem accepts.
        "solutions": {
            lang: code
            for lang, code in reference_solutions(package).items()
            if package.languages is None or lang in package.languages
        },
        "languages": None if package.languages is None else sorted(package.languages),
        "time_limit": time_limit,
        "memory_limit": package.limits.memory,
        "test_count": len(package.tests),
        "interactive": package.interactive,
    }


async def import_package(
    session: AsyncSession,
    blobs: BlobStore,
    path: Path,
    derive_time_limit: Callable[[ProblemPackage], float] | None = None,
) -> ImportOutcome:
    """Import one package folder. Raises PackageError (file and field) on a bad package."""
    package = load_package(path)
    slug = package.short_name.lower()
    if not slug.replace("-", "").replace("_", "").isalnum() or len(slug) > 64:
        raise PackageError(".", "folder name must be letters, digits, - or _ (at most 64)")
    if not package.tests:
        raise PackageError("data", "no test cases")
    time_limit = package.limits.time_limit
    if time_limit is None:
        if derive_time_limit is None:
            raise PackageError("problem.yaml", "no time limit", field="limits.time_limit")
        time_limit = derive_time_limit(package)
    difficulty, tags = _difficulty(package.metadata), _tags(package.metadata)

    data = archive.pack(package.root)
    content_hash = hashlib.sha256(data).hexdigest()
    problem = await session.scalar(
        select(Problem).where(Problem.slug == slug).with_for_update(of=Problem)
    )
    current = problem.current_version if problem is not None else None
    if (
        current is not None
        and current.content_hash == content_hash
        and not statements.convertible_now(current.statements, package)
    ):
        return ImportOutcome(slug, current.number, "unchanged")
    key = content_key("packages", data, ".tar.gz")
    await blobs.aput(key, data)

    fields = version_fields(package, float(time_limit))
    # Statements (Markdown, LaTeX converted) and their images and PDFs: statements.py.
    # Off the event loop: pandoc, and the assets' blocking puts.
    shown = await asyncio.to_thread(statements.build, package, blobs, slug)
    fields["statements"], fields["assets"] = shown.markdown, shown.assets
    status = "updated"
    if problem is None:
        problem = Problem(slug=slug)
        session.add(problem)
        status = "created"
    problem.difficulty = difficulty
    problem.tags = tags
    problem.search_text = " ".join([slug, *fields["names"].values(), *tags]).lower()
    await session.flush()
    number = (
        await session.scalar(
            select(func.max(ProblemVersion.number)).where(ProblemVersion.problem_id == problem.id)
        )
        or 0
    ) + 1
    version = ProblemVersion(
        problem_id=problem.id,
        number=number,
        content_hash=content_hash,
        package_key=key,
        **fields,
    )
    session.add(version)
    await session.flush()
    problem.current_version_id = version.id
    await session.commit()
    return ImportOutcome(slug, number, status, (*package.warnings, *shown.warnings))
