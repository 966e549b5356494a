"""`judge verify`: judge every example submission of a package against what it must do.

Input validators must accept every test input; then each submission under submissions/ is
judged and checked:

- legacy packages (problemtools' rules): the verdict of the first failing case must be one
  its folder allows (verdicts.EXPECTED_BY_FOLDER); accepted submissions of scoring problems
  must get the full score, partially_accepted ones less.
- 2025-09 packages: the folder's default rules and submissions/submissions.yaml
  (judge/expectations.py): permitted and required verdicts per case or group, score (the
  submission's, or a group's aggregated score under a group key), message.

The time limit, when the package fixes none, comes from the submissions that bound it from
below (legacy: accepted/; 2025-09: rules that do not permit TLE), judged first with a
generous limit: a submission failing there is reported with its cause and the limit comes
from the others. Legacy: max(1, ceil(slowest x time_multiplier)) whole seconds; 2025-09
("Problem timing", "Timelimit inference"): the smallest multiple of time_resolution at least
slowest x ac_to_time_limit. Submissions that bound it from above (legacy:
time_limit_exceeded/; 2025-09: required [TLE]) run with the limit x time_limit_to_tle
(legacy: time_safety_margin), so they must be clearly too slow rather than barely.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codebattle.judge import aggregation, expectations, submission_files
from codebattle.judge.engine import Judge
from codebattle.judge.expectations import Rule
from codebattle.judge.input_validation import check_inputs
from codebattle.judge.loader import derive_time_limit, load_package
from codebattle.judge.package import PackageError, PackageSubmission, ProblemPackage
from codebattle.judge.verdicts import EXPECTED_BY_FOLDER, JudgeResult, TestResult, Verdict

MiB = 1 << 20
PROVISIONAL_TIME_LIMIT = 10.0  # for the lower-bounding submissions when no limit is fixed
_EPSILON = 1e-9


@dataclass
class SubmissionCheck:
    submission: str
    expected: str
    got: str
    max_time: float
    max_memory: int
    ok: bool
    detail: str = ""  # the cause of a failure, or of a mismatch
    score: float | None = None  # scoring problems
    time_limit: float | None = None  # the limit it was judged with
    failures: list[str] = field(default_factory=list)  # the rules it breaks (2025-09)

    def to_json(self) -> dict[str, Any]:
        return {
            "score": self.score,
            "submission": self.submission,
            "expected": self.expected,
            "got": self.got,
            "max_time": round(self.max_time, 3),
            "max_memory": self.max_memory,
            "time_limit": self.time_limit,
            "ok": self.ok,
            "detail": self.detail,
            "failures": self.failures,
        }


@dataclass
class PackageReport:
    package: str
    time_limit: float | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    checks: list[SubmissionCheck] = field(default_factory=list)
    # What was checked besides the submissions, so that a clean report says it was done.
    checked: list[str] = field(default_factory=list)

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
            "checked": self.checked,
            "submissions": [c.to_json() for c in self.checks],
        }


# -- what each submission must do --------------------------------------------------------


@dataclass
class Plan:
    """One submission, what it must do, and how it bounds the time limit."""

    sub: PackageSubmission
    rel: str  # path relative to submissions/
    rules: list[Rule]  # 2025-09 only
    run_all: bool
    lower: bool  # bounds the time limit from below
    upper: bool  # bounds it from above (judged with the margin limit)

    def bounding_cases(self, upper: bool) -> Callable[[str], bool]:
        """Whether a case counts for this submission's bound (its rules' cases)."""
        rules = [r for r in self.rules if (r.upper_bound if upper else r.lower_bound)]
        if not rules:
            return lambda name: True
        return lambda name: any(r.applies_to(name) for r in rules)


def plans(package: ProblemPackage, warn: Callable[[str], None]) -> list[Plan]:
    root = package.root / "submissions"
    modern = package.format_version != "legacy"
    spec = (
        # Its warnings were given when the loader read it for discovery.
        expectations.read_submissions_yaml(package.root, lambda _: None)
        if modern
        else expectations.SubmissionsYaml()
    )
    out: list[Plan] = []
    scored = scored_groups(package) if modern else []
    for sub in package.submissions:
        rel = sub.path.relative_to(root).as_posix()
        if not modern:
            if sub.expected == "partially_accepted" and not package.scoring:
                warn(f"submissions/{rel}: partially_accepted is for scoring problems")
            out.append(
                Plan(
                    sub,
                    rel,
                    [],
                    run_all=package.scoring,
                    lower=sub.expected == "accepted",
                    upper=sub.expected == "time_limit_exceeded",
                )
            )
            continue
        rules = spec.rules(rel)
        for rule in rules:
            group = rule.cases
            if rule.score is not None and group and not expectations.group_names(group, scored):
                warn(
                    f"submissions/{rel}: {rule.source}: score is not checked, "
                    f"{group} names no scored test group ({_or_secret(scored)})"
                )
        if sub.expected == "partially_accepted" and not any(r.score is not None for r in rules):
            # The spec's "Default directories" give partially_accepted no rule (legacy
            # packages: some case accepted, below the full score); we add none.
            warn(
                f"submissions/{rel}: partially_accepted has no default rule in "
                f"{package.format_version} packages: its score is not checked (give the folder "
                "a score range in submissions.yaml, e.g. partially_accepted: {score: [1, 99]})"
            )
        elif not rules:
            warn(f"submissions/{rel}: nothing is required of it (folder {sub.expected})")
        out.append(
            Plan(
                sub,
                rel,
                rules,
                run_all=package.scoring or expectations.needs_every_case(rules),
                lower=any(r.lower_bound for r in rules),
                upper=any(r.upper_bound for r in rules),
            )
        )
    return out


# -- the verifier -----------------------------------------------------------------------


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
        try:
            input_errors = check_inputs(self.judge, package)
        except Exception as exc:  # noqa: BLE001 - a report line, never a traceback
            input_errors = [f"input validation failed: {type(exc).__name__}: {exc}"]
        report.errors.extend(collapse_repeats(input_errors, [c.name for c in package.tests]))
        if report.errors:
            return report
        report.checked.extend(input_checks_done(package))
        todo = plans(package, report.warnings.append)
        if not package.submissions:
            report.warnings.append("no submissions to verify")
        with ThreadPoolExecutor(self.jobs) as pool:
            self._verify(package, todo, report, pool)
        return report

    def _verify(
        self,
        package: ProblemPackage,
        todo: list[Plan],
        report: PackageReport,
        pool: ThreadPoolExecutor,
    ) -> None:
        fixed = package.limits.time_limit
        first_limit = fixed if fixed is not None else PROVISIONAL_TIME_LIMIT
        lower = [p for p in todo if p.lower and not p.upper]
        judged: dict[str, tuple[JudgeResult, float]] = {}
        for plan, result in zip(
            lower, pool.map(lambda p: self._judge(package, p, first_limit), lower), strict=True
        ):
            judged[plan.rel] = (result, first_limit)
        # The lower bound: the slowest case of each bounding submission that does as it must.
        passing = [p for p in lower if not self._failures(package, p, judged[p.rel][0])]
        slowest = max(
            (_slowest(judged[p.rel][0].tests, p.bounding_cases(upper=False)) for p in passing),
            default=None,
        )
        try:
            time_limit, margin = self._limits(package, slowest, lower)
        except ValueError as exc:
            report.errors.append(str(exc))
            for plan in todo:  # still say what each judged submission got
                if plan.rel in judged:
                    report.checks.append(self._check(package, plan, *judged[plan.rel]))
                else:
                    report.checks.append(_not_judged(plan, "not judged: no time limit"))
            return
        report.time_limit = time_limit
        if fixed is not None and package.format_version != "legacy":
            resolution = package.limits.time_resolution
            # The 2023-07 draft ignores time_resolution when the limit is fixed.
            if package.format_version != "2023-07" and not _is_multiple(fixed, resolution):
                report.warnings.append(
                    f"problem.yaml: limits.time_limit ({fixed:g} s) is not a multiple of "
                    f"time_resolution ({resolution:g} s)"
                )
            if not lower:
                report.warnings.append(
                    "no submission bounds the time limit from below (the format asks for one, "
                    "e.g. in accepted/)"
                )
        rest = [p for p in todo if p.rel not in judged]

        def limit_of(plan: Plan) -> float:
            return margin if plan.upper else time_limit

        for plan, result in zip(
            rest, pool.map(lambda p: self._judge(package, p, limit_of(p)), rest), strict=True
        ):
            judged[plan.rel] = (result, limit_of(plan))
        for plan in todo:
            check = self._check(package, plan, *judged[plan.rel])
            report.checks.append(check)
            if plan.upper and package.format_version != "legacy":
                error = _upper_bound_error(plan, judged[plan.rel][0], time_limit, margin, fixed)
                if error:
                    report.errors.append(error)
        if slowest is not None and fixed is not None:
            wanted = slowest * package.limits.time_multiplier
            if wanted > fixed + _EPSILON:
                message = (
                    f"the fixed time limit ({fixed:g} s) is below the slowest "
                    f"lower-bounding submission x {_ac_name(package)} ({slowest:.3f} s x "
                    f"{package.limits.time_multiplier:g} = {wanted:.2f} s)"
                )
                # 2025-09 makes it an error ("Problem timing"); problemtools only warns.
                if package.format_version == "legacy":
                    report.warnings.append(message)
                else:
                    report.errors.append(message)

    def _limits(
        self, package: ProblemPackage, slowest: float | None, lower: Sequence[Plan]
    ) -> tuple[float, float]:
        """(time limit, margin limit) for the rest of the judging; ValueError if none."""
        limits = package.limits
        modern = package.format_version != "legacy"
        if limits.time_limit is not None:
            return derive_time_limit(limits, 0.0)
        if not lower:
            raise ValueError("no time limit and no accepted submission to derive one")
        if slowest is None:
            names = ", ".join(p.rel for p in lower)
            raise ValueError(
                "no time limit can be derived: none of the submissions that bound it from "
                f"below does as it must ({names}; see each)"
            )
        if not modern:
            return derive_time_limit(limits, slowest)
        time_limit = infer_time_limit(slowest, limits.time_multiplier, limits.time_resolution)
        return time_limit, time_limit * limits.time_safety_margin

    def time_limits(
        self, package: ProblemPackage, pool: ThreadPoolExecutor | None = None
    ) -> tuple[float, float]:
        """(time limit, margin limit): the package's, or derived from the submissions that
        bound it from below (those that fail are left out). ValueError if none pass."""
        if package.limits.time_limit is not None:
            return derive_time_limit(package.limits, 0.0)
        todo = [p for p in plans(package, lambda _: None) if p.lower and not p.upper]

        def judge(plan: Plan) -> JudgeResult:
            return self._judge(package, plan, PROVISIONAL_TIME_LIMIT)

        results = list(pool.map(judge, todo)) if pool else [judge(p) for p in todo]
        failed, times = [], []
        for plan, result in zip(todo, results, strict=True):
            if self._failures(package, plan, result):
                failed.append((plan, result))
            else:
                times.append(_slowest(result.tests, plan.bounding_cases(upper=False)))
        if todo and not times:
            causes = "; ".join(f"{p.rel}: {r.verdict} {cause(r)}".strip() for p, r in failed)
            raise ValueError(f"cannot derive a time limit, no accepted submission passes: {causes}")
        return self._limits(package, max(times, default=None), todo)

    # -- judging and checking one submission ---------------------------------------------

    def _judge(self, package: ProblemPackage, plan: Plan, limit: float) -> JudgeResult:
        try:
            code, files = submission_files.submission_sources(package, plan.sub)
        except (OSError, UnicodeDecodeError) as exc:
            return JudgeResult(Verdict.IE, message=f"cannot read {plan.rel}: {exc}")
        try:
            return self.judge.judge(
                package,
                plan.sub.language,
                code,
                time_limit=limit,
                run_all=plan.run_all,
                files=files or None,
            )
        except Exception as exc:  # noqa: BLE001 - one submission's fault must not end verify
            return JudgeResult(Verdict.IE, message=f"{type(exc).__name__}: {exc}")

    def _failures(self, package: ProblemPackage, plan: Plan, result: JudgeResult) -> list[str]:
        """Why `result` is not what `plan` asks for (empty: it is)."""
        if result.verdict in (Verdict.CE, Verdict.IE):
            return [f"{result.verdict}"]
        full = _full_score(package)
        if package.format_version == "legacy" and full is not None:
            allowed = EXPECTED_BY_FOLDER.get(plan.sub.expected, frozenset())
            out = [] if result.verdict in allowed else [f"{result.verdict}"]
            if package.scoring and plan.sub.expected == "accepted" and result.score != full:
                out.append(f"score {_score(result.score)}, not the full {full:g}")
            partial = package.scoring and plan.sub.expected == "partially_accepted"
            if partial and (result.score is None or result.score >= full - _EPSILON):
                out.append(f"score {_score(result.score)}, must be below the full {full:g}")
            return out
        out = [
            str(f)
            for f in expectations.check(
                plan.rules, result.tests, result.score, group_scores_of(package, result)
            )
        ]
        has_score_rule = any(r.score is not None and r.cases is None for r in plan.rules)
        # With max_score: unbounded (full is None) only score rules say what is enough.
        must_be_full = package.scoring and plan.sub.expected == "accepted" and not has_score_rule
        if (
            must_be_full
            and full is not None
            and (result.score is None or abs(result.score - full) > _EPSILON)
        ):
            out.append(f"score {_score(result.score)}, not the full {full:g}")
        return out

    def _check(
        self, package: ProblemPackage, plan: Plan, result: JudgeResult, limit: float
    ) -> SubmissionCheck:
        failures = self._failures(package, plan, result)
        ok = not failures
        detail = cause(result) if result.verdict != Verdict.AC or not ok else ""
        if not ok and result.verdict == Verdict.AC:
            detail = "; ".join(failures)
        return SubmissionCheck(
            plan.rel,
            plan.sub.expected,
            str(result.verdict),
            result.max_time,
            result.max_memory,
            ok,
            detail,
            result.score,
            limit,
            failures if package.format_version != "legacy" else [],
        )


# -- time limits ------------------------------------------------------------------------


def infer_time_limit(slowest: float, ac_to_time_limit: float, resolution: float) -> float:
    """2025-09 "Problem timing": the smallest positive multiple of `resolution` at least
    `slowest` x `ac_to_time_limit`."""
    if not math.isfinite(slowest) or slowest < 0:
        raise ValueError(f"slowest time must be a finite number >= 0: {slowest}")
    if resolution <= 0:
        raise ValueError(f"time_resolution must be positive: {resolution:g}")
    steps = max(1, math.ceil(slowest * ac_to_time_limit / resolution - _EPSILON))
    return round(steps * resolution, 9)


def _is_multiple(value: float, resolution: float) -> bool:
    steps = value / resolution
    return abs(steps - round(steps)) < 1e-6


def _upper_bound_error(
    plan: Plan, result: JudgeResult, time_limit: float, margin: float, fixed: float | None
) -> str:
    """An upper-bounding submission that is not too slow at the margin limit: no time limit
    satisfies both bounds (derived), or the fixed one is too high."""
    counted = plan.bounding_cases(upper=True)
    if any(t.verdict == Verdict.TLE for t in result.tests if counted(t.name)):
        return ""
    if result.verdict in (Verdict.CE, Verdict.IE):
        return ""  # reported as its own failure
    slowest = _slowest(result.tests, counted)
    if fixed is not None:
        return (
            f"time limit {time_limit:g} s is too high for {plan.rel}: its slowest case "
            f"({slowest:.3f} s) is within time_limit x time_limit_to_tle = {margin:g} s"
        )
    return (
        f"no time limit satisfies both bounds: the smallest allowed ({time_limit:g} s) x "
        f"time_limit_to_tle = {margin:g} s, but {plan.rel} runs within it "
        f"(slowest case {slowest:.3f} s)"
    )


def _slowest(tests: Sequence[TestResult], counted: Callable[[str], bool]) -> float:
    return max((t.time for t in tests if counted(t.name)), default=0.0)


def _ac_name(package: ProblemPackage) -> str:
    return "time_multiplier" if package.format_version == "legacy" else "ac_to_time_limit"


# -- scores -----------------------------------------------------------------------------


def _full_score(package: ProblemPackage) -> float | None:
    """The best score: 2025-09 data/secret's max_score, legacy every case accepted. None
    when data/secret's max_score is unbounded: no score is the full one then."""
    best = aggregation.full_score(package)
    return None if best is None else float(best)


def scored_groups(package: ProblemPackage) -> list[str]:
    """The groups with a score of their own, relative to data/: secret and its test data
    groups (scoring problems only)."""
    if not package.scoring:
        return []
    secret = next((g for g in package.data.groups if g.name == "data/secret"), None)
    if secret is None:
        return []
    return ["secret", *(g.name.removeprefix("data/") for g in secret.groups)]


def group_scores_of(
    package: ProblemPackage, result: JudgeResult
) -> Callable[[str], dict[str, float]]:
    """`score` under a group key is checked against the group's aggregated score
    ("Test data groups" of submissions.yaml): the scores of the groups a glob names."""
    if not package.scoring or result.verdict in (Verdict.CE, Verdict.IE):
        return lambda _: {}
    accepted = {t.name: t.verdict == Verdict.AC for t in result.tests}
    ok = [t for t in result.tests if accepted[t.name]]
    try:
        scores = aggregation.group_scores(
            package.data,
            accepted,
            {t.name: t.score for t in ok if t.score is not None},
            {t.name: t.score_multiplier for t in ok if t.score_multiplier is not None},
        )
    except ValueError:  # a judge error: the submission's IE says so
        return lambda _: {}

    def named(pattern: str) -> dict[str, float]:
        return {name: scores[name] for name in expectations.group_names(pattern, scores)}

    return named


def _or_secret(names: Sequence[str]) -> str:
    return ", ".join(names) if names else "not a scoring problem"


def _score(score: float | None) -> str:
    return "none" if score is None else f"{score:g}"


# -- reporting --------------------------------------------------------------------------


def cause(result: JudgeResult) -> str:
    """Why a submission failed, in one line: the compiler's first line, the judge's fault,
    or the first failing case with its exit code and first line of stderr or feedback."""
    if result.verdict == Verdict.CE:
        first = next((ln for ln in result.compile_output.splitlines() if ln.strip()), "")
        return f"compile error: {first}"[:160]
    failing = next((t for t in result.tests if t.verdict != Verdict.AC), None)
    if failing is None:
        return result.message.splitlines()[0][:160] if result.message else ""
    lines = [ln.strip() for ln in failing.feedback.splitlines() if ln.strip()]
    parts = [failing.name, str(failing.verdict)]
    if failing.verdict == Verdict.TLE:
        parts.append(f"over {result.time_limit:g} s")
    if failing.verdict == Verdict.RE and lines and lines[0].startswith(("exit code", "killed")):
        parts.append(lines.pop(0))  # the grader's own "exit code 3" / "killed by SIGSEGV"
    elif failing.verdict in (Verdict.RE, Verdict.MLE, Verdict.OLE):
        if failing.signal:
            parts.append(f"signal {failing.signal}")
        elif failing.exit_code is not None:
            parts.append(f"exit code {failing.exit_code}")
    # stderr's first line, except in a traceback, whose last line names the error.
    marker = "Traceback (most recent call last):"
    traceback = any(marker in ln for ln in lines)
    first = lines[-1] if traceback else (lines or [""])[0]
    if traceback and lines[0] != marker and len(lines) > 1:  # keep "validator failed: "
        first = f"{lines[0].removesuffix(marker).strip()} {first}"
    line = " ".join(parts) + (f": {first}" if first else "")
    return line[:160]


def _not_judged(plan: Plan, why: str) -> SubmissionCheck:
    return SubmissionCheck(plan.rel, plan.sub.expected, "-", 0.0, 0, False, why)


def collapse_repeats(errors: Sequence[str], case_names: Sequence[str], shown: int = 3) -> list[str]:
    """One line per error that repeats over test cases (e.g. a validator crashing the same
    way on 40 inputs): the count and the first case names, instead of one line each."""
    names = sorted(set(case_names), key=len, reverse=True)  # longest first: no prefix clash
    groups: dict[str, list[str]] = {}
    order: list[str] = []
    for error in errors:
        found = next(
            (n for n in names if re.search(rf"(?<![\w/]){re.escape(n)}(?![\w/])", error)), None
        )
        key = error if found is None else error.replace(found, "\0", 1)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(found or "")
    out: list[str] = []
    for key in order:
        cases = groups[key]
        if len(cases) == 1:
            out.append(key.replace("\0", cases[0]))
            continue
        listed = ", ".join(cases[:shown]) + (", ..." if len(cases) > shown else "")
        out.append(key.replace("\0", f"{len(cases)} cases ({listed})"))
    return out


def input_checks_done(package: ProblemPackage) -> list[str]:
    """What the input checks covered, for a report that found nothing wrong."""
    cases = len(package.tests)
    notes = []
    if package.input_validators:
        names = ", ".join(source.name for source in package.input_validators)
        notes.append(f"input validators ({names}) accept all {cases} test inputs")
    else:
        notes.append(f"no input validator: the {cases} test inputs are not checked")
    if package.invalid_inputs:
        notes.append(f"{len(package.invalid_inputs)} invalid inputs rejected")
    outputs = len(package.valid_outputs) + len(package.invalid_outputs)
    if outputs:
        notes.append(f"{outputs} valid/invalid outputs judged as expected")
    return notes


def format_table(report: PackageReport) -> str:
    lines = [
        f"{report.package}  (time limit: {report.time_limit:g} s)"
        if report.time_limit
        else report.package
    ]
    for error in report.errors:
        lines.append(f"  ERROR {error}")
    for note in report.checked:
        lines.append(f"  checked: {note}")
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
            if not c.ok and c.got not in ("CE", "IE") and c.detail != "; ".join(c.failures):
                lines.extend(f"      {failure}" for failure in c.failures)
    lines.append(f"  => {'OK' if report.ok else 'FAILED'}")
    return "\n".join(lines)
