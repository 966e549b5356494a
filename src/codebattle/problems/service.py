"""Reading problems for the list and the statement pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.errors import UserError
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.problems.templates import offered, templates_of

DIFFICULTY_ORDER = {"easy": 0, "medium": 1, "hard": 2}


async def listing(
    session: AsyncSession, query: str = "", difficulty: str = "", tag: str = ""
) -> list[Problem]:
    statement = select(Problem).where(Problem.current_version_id.is_not(None))
    if query.strip():
        for word in query.lower().split()[:5]:
            escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            statement = statement.where(Problem.search_text.like(f"%{escaped}%", escape="\\"))
    if difficulty in DIFFICULTY_ORDER:
        statement = statement.where(Problem.difficulty == difficulty)
    problems = list(await session.scalars(statement))
    if tag:
        problems = [p for p in problems if tag.lower() in p.tags]
    return sorted(problems, key=lambda p: (DIFFICULTY_ORDER.get(p.difficulty, 1), p.slug))


async def problem_by_slug(session: AsyncSession, slug: object) -> Problem:
    """The problem with this slug and a current version, or a 404 for the user."""
    problem = None
    if isinstance(slug, str) and len(slug) <= 64:
        problem = await session.scalar(select(Problem).where(Problem.slug == slug))
    if problem is None or problem.current_version is None:
        raise UserError(404, "problem_unknown")
    return problem


def name_of(version: ProblemVersion, locale: str) -> str:
    return (
        version.names.get(locale)
        or version.names.get("en")
        or next(iter(version.names.values()), "")
    )


async def version_cards(
    session: AsyncSession, version_ids: Iterable[int], locale: str
) -> dict[int, dict[str, Any]]:
    """What a match or a room shows of each problem version (slug, name, test count), by
    version id, in one query."""
    rows = await session.execute(
        select(ProblemVersion, Problem.slug)
        .join(Problem, Problem.id == ProblemVersion.problem_id)
        .where(ProblemVersion.id.in_(set(version_ids)))
    )
    return {
        version.id: {"slug": slug, "name": name_of(version, locale), "tests": version.test_count}
        for version, slug in rows
    }


def statement_of(version: ProblemVersion, locale: str) -> tuple[str, str]:
    """(language, Markdown) of the statement in `locale`, else English, else any."""
    for lang in (locale, "en", *version.statements):
        if lang in version.statements:
            return lang, version.statements[lang]
    return locale, ""


def samples_to_show(statement: str, samples: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The examples to print under a statement: none when the statement already shows
    every one of them. A sample with an interaction log gets its `steps` to show."""
    if all(not s.get("interaction") and s["input"].strip() in statement for s in samples):
        return []
    return [
        {**sample, "steps": interaction_steps(sample["interaction"])}
        if sample.get("interaction")
        else sample
        for sample in samples
    ]


def interaction_steps(log: str) -> list[dict[str, str]]:
    """An `.interaction` log as steps: `<` lines are what the judge sends the program,
    `>` lines what the program answers, `---` separates the passes of a multi-pass problem
    (the format's "Samples for interactive and multi-pass problems")."""
    steps: list[dict[str, str]] = []
    for line in log.splitlines():
        if line.startswith("<"):
            steps.append({"who": "judge", "text": line[1:]})
        elif line.startswith(">"):
            steps.append({"who": "program", "text": line[1:]})
        elif line.strip() == "---":
            steps.append({"who": "pass", "text": ""})
    return steps


def problem_json(problem: Problem, locale: str, solved: bool | None = None) -> dict[str, Any]:
    version = problem.current_version
    assert version is not None
    data: dict[str, Any] = {
        "slug": problem.slug,
        "name": name_of(version, locale),
        "names": version.names,
        "difficulty": problem.difficulty,
        "tags": problem.tags,
        "version": version.number,
        "time_limit": version.time_limit,
        "memory_limit": version.memory_limit,
    }
    if solved is not None:
        data["solved"] = solved
    return data


def problem_detail_json(problem: Problem, locale: str) -> dict[str, Any]:
    version = problem.current_version
    assert version is not None
    lang, statement = statement_of(version, locale)
    return {
        **problem_json(problem, locale),
        "statement_language": lang,
        "statement": statement,
        "samples": version.samples,
        # Only the languages the problem accepts, each with starter code (templates.py).
        "languages": offered(version.languages),
        "templates": templates_of(version),
        "interactive": version.interactive,
    }
