"""`judge verify`: judge every submission of a package against its expected verdict.

Like problemtools' verifyproblem: input validators must accept every test input, each
file under submissions/<folder>/ must get a verdict its folder allows, and a package without a
fixed time limit gets one derived from its slowest accepted submission (see judge/loader.py).
Submissions expected to be too slow run with the safety-margin limit, so they must be clearly
too slow rather than barely.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codebattle.judge.engine import Judge
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import derive_time_limit, load_package
from codebattle.judge.package import PackageError, PackageSubmission, ProblemPackage
from codebattle.judge.scoring import full_score
from codebattle.judge.verdicts import EXPECTED_BY_FOLDER, JudgeResult, Verdict

MiB = 1 << 20
PROVISIONAL_TIME_LIMIT = 10.0  # for accepted submissions when the package fixes no limit


@dataclass
class SubmissionCheck:
    submission: str
    expected: str
    got: str
    max_time: float
    max_memory: int
    ok: bool
    detail: str = ""
    score: float | None = None  # scoring problems

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "submission": self.submission,
            "expected": self.expected,
            "got": self.got,
            "max_time": round(self.max_time, 3),
            "max_memory": self.max_memory,
            "ok": self.ok,
            "detail": self.detail,
        }


@dataclass
class PackageReport:
    package: str
    time_limit: float | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[SubmissionCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and all(c.ok for c in self.checks)

    def to_json(self) -> dict[str, Any]:
        return {
            "package": self.package,
            "ok": self.ok,
            "time_limit": self.time_limit,
            "errors": self.errors,
            "warnings": self.warnings,
            "submissions": [c.to_json() for c in self.checks],
        }


def _detail(result: JudgeResult) -> str:
    failing = next((t for t in result.tests if t.verdict != Verdict.AC), None)
    if result.verdict == Verdict.CE:
        return result.compile_output.splitlines()[0] if result.compile_output else ""
    if failing is not None:
        first_line = failing.feedback.splitlines()[0] if failing.feedback else ""
        return f"{failing.name}: {first_line}"[:120]
    return result.message[:120]


class Verifier:
    def __init__(self, judge: Judge | None = None, jobs: int | None = None) -> None:
        self.judge = judge or Judge()
        self.jobs = jobs or max(1, min(4, os.cpu_count() or 1))

    def verify(self, path: Path) -> PackageReport:
        report = PackageReport(package=str(path))
        try:
            package = load_package(path)
        except PackageError as exc:
            report.errors.append(str(exc))
            return report
        report.package = package.short_name
        report.warnings.extend(package.warnings)
        report.errors.extend(check_inputs(self.judge, package))
        if report.errors:
            return report
        with ThreadPoolExecutor(self.jobs) as pool:
            try:
                time_limit, margin = self.time_limits(package, pool)
            except ValueError as exc:
                report.errors.append(str(exc))
                return report
            report.time_limit = time_limit

            def judge(sub: PackageSubmission) -> JudgeResult:
                # Too-slow submissions must fail even with the safety margin.
                slow = sub.expected == "time_limit_exceeded"
                return self._judge(package, sub, margin if slow else time_limit)

            results = list(
                zip(package.submissions, pool.map(judge, package.submissions), strict=True)
            )
        for sub, result in results:
            allowed = EXPECTED_BY_FOLDER.get(sub.expected, frozenset())
            ok = result.verdict in allowed
            if package.scoring and sub.expected == "accepted":
                # An accepted submission of a scoring problem must earn the full score.
                ok = ok and result.score == full_score(package.data)
            rel = str(sub.path.relative_to(package.root / "submissions"))
            report.checks.append(
                SubmissionCheck(
                    rel,
                    sub.expected,
                    str(result.verdict),
                    result.max_time,
                    result.max_memory,
                    ok,
                    _detail(result) if not ok or result.verdict != Verdict.AC else "",
                    result.score,
                )
            )
        if not package.submissions:
            report.warnings.append("no submissions to verify")
        slowest = max((r.max_time for s, r in results if s.expected == "accepted"), default=0.0)
        wanted = slowest * package.limits.time_multiplier
        if package.limits.time_limit is not None and wanted > package.limits.time_limit:
            report.warnings.append(
                f"the fixed time limit ({package.limits.time_limit:g} s) is below the slowest "
                f"accepted submission x time_multiplier ({slowest:.3f} s x "
                f"{package.limits.time_multiplier:g} = {wanted:.2f} s)"
            )
        return report

    def time_limits(
        self, package: ProblemPackage, pool: ThreadPoolExecutor | None = None
    ) -> tuple[float, float]:
        """(time limit, safety-margin limit): the package's, or derived from its slowest
        accepted submission (judge/loader.py: derive_time_limit)."""
        if package.limits.time_limit is not None:
            return derive_time_limit(package.limits, 0.0)
        accepted = [s for s in package.submissions if s.expected == "accepted"]
        if not accepted:
            raise ValueError("no time limit and no accepted submission to derive one")

        def judge(sub: PackageSubmission) -> JudgeResult:
            return self._judge(package, sub, PROVISIONAL_TIME_LIMIT)

        firsts = list(pool.map(judge, accepted)) if pool else [judge(s) for s in accepted]
        failed = [s for s, r in zip(accepted, firsts, strict=True) if r.verdict != Verdict.AC]
        if failed:
            raise ValueError(
                f"cannot derive a time limit: {failed[0].path.name} is not accepted "
                f"within {PROVISIONAL_TIME_LIMIT:g} s"
            )
        return derive_time_limit(package.limits, max(r.max_time for r in firsts))

    def _judge(self, package: ProblemPackage, sub: PackageSubmission, limit: float) -> JudgeResult:
        try:
            code = sub.path.read_text(encoding="utf-8", errors="surrogateescape")
        except OSError as exc:
            return JudgeResult(Verdict.IE, message=f"cannot read {sub.path}: {exc}")
        return self.judge.judge(
            package, sub.language, code, time_limit=limit, run_all=package.scoring
        )


def format_table(report: PackageReport) -> str:
    lines = [
        f"{report.package}  (time limit: {report.time_limit:g} s)"
        if report.time_limit
        else report.package
    ]
    for error in report.errors:
        lines.append(f"  ERROR {error}")
    for warning in report.warnings:
        lines.append(f"  warning: {warning}")
    if report.checks:
        width = max(len("submission"), *(len(c.submission) for c in report.checks))
        lines.append(
            f"  {'submission':<{width}}  {'expected':<21} {'got':<4} {'max time':>9} {'max mem':>9}"
        )
        for c in report.checks:
            mark = "ok" if c.ok else "MISMATCH"
            lines.append(
                f"  {c.submission:<{width}}  {c.expected:<21} {c.got:<4} "
                f"{c.max_time:>8.3f}s {c.max_memory / MiB:>7.1f}MB  {mark}"
                + (f"  score {c.score:g}" if c.score is not None else "")
                + (f"  {c.detail}" if c.detail else "")
            )
    lines.append(f"  => {'OK' if report.ok else 'FAILED'}")
    return "\n".join(lines)
