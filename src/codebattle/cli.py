"""The `codebattle` command line."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from codebattle.judge.verdicts import JudgeResult, TestResult

app = typer.Typer(no_args_is_help=True, add_completion=False, help="AI Code Battle")
judge_app = typer.Typer(no_args_is_help=True, help="Judge submissions in the sandbox.")
app.add_typer(judge_app, name="judge")

MiB = 1 << 20


def _fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@judge_app.command("selftest")
def selftest() -> None:
    """Check this host: bubblewrap, cgroups, seccomp, compilers."""
    from codebattle.judge.selftest import format_checks, run_checks

    checks = run_checks()
    typer.echo(format_checks(checks))
    if any(c.status == "fail" for c in checks):
        raise typer.Exit(1)


@judge_app.command("verify")
def verify(
    packages: Annotated[list[Path], typer.Argument(help="problem package folders")],
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    jobs: Annotated[int, typer.Option(help="submissions judged at once")] = 2,
) -> None:
    """Judge every file under submissions/ and compare with its folder's expected verdict."""
    from codebattle.judge.verify import Verifier, format_table

    verifier = Verifier(jobs=jobs)
    reports = []
    for path in packages:
        report = verifier.verify(path)
        reports.append(report)
        if not as_json:
            typer.echo(format_table(report))
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in reports], indent=2))
    if not all(r.ok for r in reports):
        raise typer.Exit(1)


@judge_app.command("run")
def run(
    package: Annotated[Path, typer.Argument(help="problem package folder")],
    source: Annotated[Path, typer.Argument(help="the submission's source file")],
    lang: Annotated[str | None, typer.Option("--lang", help="python | cpp | java")] = None,
    run_all: Annotated[bool, typer.Option("--all", help="run every test")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Judge one source file against a package, test by test."""
    from codebattle.judge import languages
    from codebattle.judge.engine import Judge
    from codebattle.problems.loader import load_package
    from codebattle.problems.model import PackageError

    try:
        language = languages.get(lang) if lang else languages.for_path(source)
    except languages.UnknownLanguage as exc:
        _fail(str(exc))
    try:
        code = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"cannot read {source}: {exc}")
    try:
        pkg = load_package(package)
    except PackageError as exc:
        _fail(str(exc))
    judge = Judge()
    time_limit = pkg.limits.time_limit
    if time_limit is None:
        from codebattle.judge.verify import Verifier

        typer.echo("deriving the time limit from the accepted submissions...", err=True)
        try:
            time_limit, _ = Verifier(judge).time_limits(pkg)
        except ValueError as exc:
            _fail(f"{pkg.short_name}: {exc}")

    async def go() -> JudgeResult:
        final: JudgeResult | None = None
        async for item in judge.stream(pkg, language, code, run_all=run_all, time_limit=time_limit):
            if isinstance(item, TestResult):
                if not as_json:
                    line = (
                        f"{item.name:<28} {item.verdict:<4} {item.time:7.3f}s "
                        f"{item.memory / MiB:7.1f}MB"
                    )
                    feedback = item.feedback.splitlines()[0] if item.feedback else ""
                    typer.echo(
                        line + (f"  {feedback[:100]}" if item.verdict != "AC" and feedback else "")
                    )
            else:
                final = item
        assert final is not None
        return final

    result = asyncio.run(go())
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2))
    else:
        if result.compile_output:
            typer.echo(result.compile_output)
        passed = sum(t.verdict == "AC" for t in result.tests)
        score = f", score {result.score:g}" if result.score is not None else ""
        typer.echo(f"verdict: {result.verdict} ({passed}/{len(pkg.tests)} tests passed{score})")
    if result.verdict == "IE":
        raise typer.Exit(3)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
