"""Judges a submission against a problem package, test by test.

`Judge.stream()` yields one TestResult per test as it finishes, then the JudgeResult; a UI
can forward each item as it arrives. Two policies: stop at the first failure (the default,
as in contests) or run every test and report how many passed (`run_all=True`, always used for
scoring problems). In 2025-09 scoring problems a group whose `require_pass` groups did not
all pass is not run (judge/aggregation.py's Dependencies).

The engine keeps the test loop and that policy; how each test's run becomes a verdict is the
package's grader's business (judge/graders/: standard, output validator, interactive).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass

from codebattle.judge import languages
from codebattle.judge.aggregation import Dependencies
from codebattle.judge.compiler import Compiler, CompileResult, Program, program_limits
from codebattle.judge.graders.base import FEEDBACK_BYTES, Grader, failure_verdict, trim
from codebattle.judge.graders.custom import GRADER_VERDICTS, CustomGroupGrader, GradingError
from codebattle.judge.graders.interactive import InteractiveGrader
from codebattle.judge.graders.multipass import MultiPassGrader
from codebattle.judge.graders.standard import StandardGrader
from codebattle.judge.graders.validator import OutputValidatorGrader, ValidatorBuilds
from codebattle.judge.languages.base import Language
from codebattle.judge.package import ProblemPackage, TestCase, ValidatorSource
from codebattle.judge.sandbox import Limits, PreparedRun, Sandbox, SandboxError, Session
from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict

__all__ = ["CustomRun", "Judge", "failure_verdict", "program_limits"]

MiB = 1 << 20
RAN_OK = "OK"  # run_custom's verdict for a program that did not fail


@dataclass(frozen=True)
class CustomRun:
    """The outcome of running a program on the player's own input."""

    verdict: str  # RAN_OK, or a failure verdict: CE, TLE, MLE, OLE, RE, IE
    stdout: str = ""
    stderr: str = ""
    time: float = 0.0
    memory: int = 0
    exit_code: int | None = None
    compile_output: str = ""


class Judge:
    """Compiles and judges submissions. One instance can serve many concurrent judgings."""

    def __init__(self, sandbox: Sandbox | None = None, compiler: Compiler | None = None) -> None:
        self.sandbox = sandbox or Sandbox()
        self.compiler = compiler or Compiler(self.sandbox)
        self.validators = ValidatorBuilds(self.compiler)

    # -- preparing -----------------------------------------------------------------------

    def compile_validator(
        self, source: ValidatorSource, package: ProblemPackage | None = None
    ) -> CompileResult:
        """Validators are sources in the package, compiled in the sandbox like submissions
        (with `package`'s constants substituted)."""
        return self.validators.compile(source, package.substitute if package else None)

    def grader(self, package: ProblemPackage, program: Program) -> Grader | InteractiveGrader:
        """How `package` grades each test's run; raises GraderUnavailable."""
        if package.validation != "custom":
            return StandardGrader(package, program.language)
        built = self.compile_validator(package.output_validators[0], package)
        if built.program is None:
            raise GraderUnavailable(
                f"output validator failed to compile: {built.internal_error or built.output}"
            )
        if package.multi_pass:  # runs its passes itself, interactive or not
            return MultiPassGrader(self.sandbox, package, built.program)
        if package.interactive:
            return InteractiveGrader(self.sandbox, package, built.program)
        return OutputValidatorGrader(self.sandbox, package, program.language, built.program)

    def group_grader(self, package: ProblemPackage) -> CustomGroupGrader | None:
        """The legacy custom grader (graders/) that `grading: custom` groups use, or None;
        raises GradingError when it does not compile."""
        if not package.graders:
            return None
        built = self.compile_validator(package.graders[0], package)
        if built.program is None:
            raise GradingError(
                f"custom grader failed to compile: {built.internal_error or built.output}"
            )
        return CustomGroupGrader(self.sandbox, package, built.program)

    # -- judging -------------------------------------------------------------------------

    async def stream(
        self,
        package: ProblemPackage,
        language: Language | str,
        code: str,
        *,
        run_all: bool = False,
        time_limit: float | None = None,
        tests: Sequence[TestCase] | None = None,
        files: Mapping[str, bytes] | None = None,
    ) -> AsyncIterator[TestResult | JudgeResult]:
        """Yield each TestResult as it is known, then the final JudgeResult."""
        queue: asyncio.Queue[TestResult | JudgeResult | None] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def emit(item: TestResult | JudgeResult) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                self.judge(
                    package,
                    language,
                    code,
                    run_all=run_all,
                    time_limit=time_limit,
                    tests=tests,
                    files=files,
                    on_test=emit,
                )
            finally:
                loop.call_soon_threadsafe(queue.put_nowait, None)

        task = loop.run_in_executor(None, work)
        try:
            while (item := await queue.get()) is not None:
                yield item
        finally:
            await task

    def judge(
        self,
        package: ProblemPackage,
        language: Language | str,
        code: str,
        *,
        run_all: bool = False,
        time_limit: float | None = None,
        tests: Sequence[TestCase] | None = None,
        files: Mapping[str, bytes] | None = None,
        on_test: Callable[[TestResult | JudgeResult], None] | None = None,
        on_compiled: Callable[[], None] | None = None,
    ) -> JudgeResult:
        """Judge synchronously; `on_compiled` is called once the program compiled (before
        its first test; never after a compile error), `on_test` with each TestResult, then
        the JudgeResult.

        `code` is the main file (the entrypoint) of the submission; `files` are its other
        files by relative path ("util.py", "lib/graph.h"), placed beside it. The package's
        include/ files are added here, so every submission gets them."""
        lang = languages.get(language) if isinstance(language, str) else language
        result = self._judge(
            package,
            lang,
            Sources(code, dict(files or {})),
            run_all or package.scoring,
            time_limit,
            tests,
            on_test,
            on_compiled,
        )
        if on_test:
            on_test(result)
        return result

    def _judge(
        self,
        package: ProblemPackage,
        lang: Language,
        sources: Sources,
        run_all: bool,
        time_limit: float | None,
        tests: Sequence[TestCase] | None,
        on_test: Callable[[TestResult | JudgeResult], None] | None,
        on_compiled: Callable[[], None] | None,
    ) -> JudgeResult:
        limit = time_limit or package.limits.time_limit
        if limit is None:
            raise ValueError(f"{package.short_name}: no time limit (derive one with verify)")
        enforcement = self.sandbox.enforcement
        if package.languages is not None and lang.name not in package.languages:
            refusal = f"{lang.title} is not allowed for this problem (problem.yaml `languages`)"
            return JudgeResult(
                Verdict.CE, compile_output=refusal, time_limit=limit, enforcement=enforcement
            )
        too_big = code_limit_message(package, sources)
        if too_big:
            return JudgeResult(
                Verdict.CE, compile_output=too_big, time_limit=limit, enforcement=enforcement
            )
        code, files = with_includes(package, lang, sources)
        compiled = self.compiler.compile(lang, code, files)
        if compiled.internal_error:
            return JudgeResult(
                Verdict.IE,
                time_limit=limit,
                enforcement=enforcement,
                message=compiled.internal_error,
            )
        if compiled.program is None:
            return JudgeResult(
                Verdict.CE,
                compile_output=compiled.output,
                time_limit=limit,
                enforcement=enforcement,
            )
        if on_compiled:
            on_compiled()
        try:
            grader = self.grader(package, compiled.program)
        except GraderUnavailable as exc:
            return JudgeResult(
                Verdict.IE, time_limit=limit, enforcement=enforcement, message=str(exc)
            )
        results: list[TestResult] = []
        first_failure: Verdict | None = None
        cases = list(tests if tests is not None else package.tests)
        program = among_its_files(compiled.program, files)
        # One sandbox serves every test of this submission (decision 0013); without the
        # static launcher, the next test's sandbox is set up while the current test runs.
        # Not for interactive problems, whose two sandboxes are joined by pipes per test.
        ahead = not (package.interactive or package.multi_pass)
        session = self._session(package, program, limit) if ahead else None
        pending = (
            self._start_test(package, program, cases[0], limit)
            if cases and ahead and session is None
            else None
        )
        # 2025-09 require_pass: a group whose required groups did not all pass is not run;
        # its cases are not reported (as after the first failure) and score nothing.
        dependencies = Dependencies(package, cases)
        accepted: dict[str, bool] = {}
        try:
            for index, case in enumerate(cases):
                if not dependencies.runs(case, accepted):
                    if pending is not None and pending.case is case:
                        pending.cancel()  # set up ahead, before its turn was known
                        pending = None
                    continue
                if session is not None:
                    outcome = self._session_test(session, package, program, case, limit, grader)
                elif ahead:
                    current = pending
                    if current is None or current.case is not case:
                        if current is not None:
                            current.cancel()
                        current = self._start_test(package, program, case, limit)
                    # Measured: setting up the next sandbox first, then releasing this one,
                    # beats the reverse order (bench/sandbox_overhead.py).
                    pending = (
                        self._start_test(package, program, cases[index + 1], limit)
                        if index + 1 < len(cases)
                        else None
                    )
                    outcome = self._finish_test(package, current, grader)
                else:
                    try:
                        outcome = self.run_test(package, program, case, limit, grader)
                    except SandboxError as exc:
                        outcome = TestResult(
                            case.name, Verdict.IE, feedback=str(exc), sample=case.sample
                        )
                results.append(outcome)
                accepted[case.name] = outcome.verdict == Verdict.AC
                if on_test:
                    on_test(outcome)
                if outcome.verdict != Verdict.AC and first_failure is None:
                    first_failure = outcome.verdict
                    if not run_all:
                        break
        finally:
            if pending is not None:
                pending.cancel()
            if session is not None:
                session.close()
        score = None
        if package.scoring:
            from codebattle.judge.scoring import package_score

            scores = {t.name: t.score for t in results if t.score is not None and accepted[t.name]}
            multipliers = {
                t.name: t.score_multiplier
                for t in results
                if t.score_multiplier is not None and accepted[t.name]
            }
            try:
                score = package_score(
                    package,
                    accepted,
                    scores or None,
                    multipliers or None,
                    verdicts={t.name: GRADER_VERDICTS[t.verdict] for t in results},
                    grader=self.group_grader(package),
                )
            except ValueError as exc:  # aggregation.ScoringError: the spec's judge errors
                return JudgeResult(
                    Verdict.IE,
                    results,
                    compiled.output,
                    time_limit=limit,
                    enforcement=enforcement,
                    message=f"scoring: {exc}",
                )
        return JudgeResult(
            first_failure or Verdict.AC,
            results,
            compiled.output,
            score=score,
            time_limit=limit,
            enforcement=enforcement,
        )

    def run_custom(
        self,
        language: Language | str,
        code: str,
        stdin: bytes,
        *,
        time_limit: float = 2.0,
        memory_mb: int = 256,
        output_limit: int = 64 * 1024,
        package: ProblemPackage | None = None,
        files: Mapping[str, bytes] | None = None,
        on_compiled: Callable[[], None] | None = None,
    ) -> CustomRun:
        """Run a program on the player's own input ("run with custom input"): no answer to
        compare, so the outcome is OK or the failure (CE, TLE, MLE, OLE, RE, IE). With the
        problem's `package`, its include/ files are added as when judging. `on_compiled` is
        called once it compiled, before it runs."""
        lang = languages.get(language) if isinstance(language, str) else language
        sources = Sources(code, dict(files or {}))
        extra = sources.files
        if package is not None:
            too_big = code_limit_message(package, sources)
            if too_big:
                return CustomRun(str(Verdict.CE), compile_output=too_big)
            code, extra = with_includes(package, lang, sources)
        compiled = self.compiler.compile(lang, code, extra)
        if compiled.program is None:
            verdict = Verdict.IE if compiled.internal_error else Verdict.CE
            return CustomRun(
                str(verdict), compile_output=compiled.output or compiled.internal_error
            )
        if on_compiled:
            on_compiled()
        program = among_its_files(compiled.program, extra)
        memory = memory_mb * MiB
        limits = program_limits(program, time_limit, memory, output_limit)
        try:
            with self.sandbox.box() as box:
                run = self.sandbox.run(
                    program.argv(memory),
                    box,
                    limits,
                    binds=program.binds(),
                    stdin=stdin,
                    env=program.language.env,
                )
        except SandboxError as exc:
            return CustomRun(str(Verdict.IE), stderr=str(exc))
        failed = failure_verdict(run, lang)
        return CustomRun(
            RAN_OK if failed is None else str(failed),
            stdout=run.stdout.decode("utf-8", errors="replace"),
            stderr=trim(run.stderr, FEEDBACK_BYTES),
            time=round(run.cpu_time, 4),
            memory=run.memory,
            exit_code=run.exit_code,
            compile_output=compiled.output,
        )

    def run_limits(self, package: ProblemPackage, program: Program, time_limit: float) -> Limits:
        output = package.limits.output * MiB
        return program_limits(program, time_limit, package.limits.memory * MiB, output, output)

    def run_test(
        self,
        package: ProblemPackage,
        program: Program,
        case: TestCase,
        time_limit: float,
        grader: Grader | InteractiveGrader,
    ) -> TestResult:
        if isinstance(grader, InteractiveGrader):
            return grader.run(program, case, self.run_limits(package, program, time_limit))
        return self._finish_test(
            package, self._start_test(package, program, case, time_limit), grader
        )

    def _session(
        self, package: ProblemPackage, program: Program, time_limit: float
    ) -> Session | None:
        """The sandbox reused for the tests of one submission, or None (no launcher)."""
        if not self.sandbox.reusable:
            return None
        limits = self.run_limits(package, program, time_limit)
        try:
            return self.sandbox.session(
                binds=program.binds(), env=program.language.env, tmp_size=limits.tmp_size
            )
        except SandboxError:
            return None  # each test then gets a fresh sandbox

    def _session_test(
        self,
        session: Session,
        package: ProblemPackage,
        program: Program,
        case: TestCase,
        time_limit: float,
        grader: Grader | InteractiveGrader,
    ) -> TestResult:
        """Run one test in the submission's sandbox and grade it."""
        limits = self.run_limits(package, program, time_limit)
        try:
            with open(case.input, "rb") as stdin:
                run = session.run(
                    program.argv(package.limits.memory * MiB, case.args),
                    limits,
                    stdin=stdin.fileno(),
                )
        except (SandboxError, OSError) as exc:
            return TestResult(case.name, Verdict.IE, feedback=str(exc), sample=case.sample)
        assert not isinstance(grader, InteractiveGrader)  # it runs its tests itself
        return grader.grade(case, run)

    def _start_test(
        self, package: ProblemPackage, program: Program, case: TestCase, time_limit: float
    ) -> _PendingTest:
        """Set up the sandbox of one test; its program starts in `_finish_test`."""
        limits = self.run_limits(package, program, time_limit)
        pending = _PendingTest(case, limits)
        try:
            box = pending.stack.enter_context(self.sandbox.box())
            stdin = pending.stack.enter_context(open(case.input, "rb"))  # noqa: SIM115
            pending.prepared = self.sandbox.prepare(
                program.argv(package.limits.memory * MiB, case.args),
                box,
                limits,
                binds=program.binds(),
                stdin=stdin.fileno(),
                env=program.language.env,
            )
        except (SandboxError, OSError) as exc:
            pending.error = str(exc)
        return pending

    def _finish_test(
        self, package: ProblemPackage, pending: _PendingTest, grader: Grader | InteractiveGrader
    ) -> TestResult:
        case = pending.case
        try:
            if pending.prepared is None:
                return TestResult(case.name, Verdict.IE, feedback=pending.error, sample=case.sample)
            try:
                run = pending.prepared.run()
            except SandboxError as exc:
                return TestResult(case.name, Verdict.IE, feedback=str(exc), sample=case.sample)
        finally:
            pending.stack.close()
        assert not isinstance(grader, InteractiveGrader)  # it runs its tests itself
        return grader.grade(case, run)


@dataclass(frozen=True)
class Sources:
    """A submission as submitted: its main file's code and its other files."""

    code: str
    files: dict[str, bytes]

    @property
    def size(self) -> int:
        return len(self.code.encode("utf-8", errors="surrogateescape")) + sum(
            len(data) for data in self.files.values()
        )


def code_limit_message(package: ProblemPackage, sources: Sources) -> str:
    """The compile error of a submission over the package's `limits.code` (KiB), counted
    on the submitted files only, before include/ files are added (as the format says)."""
    limit = package.limits.code * 1024
    if sources.size <= limit:
        return ""
    return (
        f"The submission is {sources.size / 1024:.1f} KiB, over this problem's code limit "
        f"of {package.limits.code} KiB."
    )


def with_includes(
    package: ProblemPackage, lang: Language, sources: Sources
) -> tuple[str, dict[str, bytes]]:
    """The submission with the package's include/ files for `lang` added, overwriting
    submitted files of the same name; an included file with the main file's name (a
    driver) replaces the main file, as does a Python `__main__.py` (the entrypoint rule
    takes it first; it wins over an included main.py)."""
    code, files = sources.code, dict(sources.files)
    code_names = (lang.name, *lang.package_codes)
    folder = next((c for c in code_names if c in package.includes), "default")
    main_name = lang.source_name(code)
    driver_names = [main_name]
    if main_name.endswith(".py"):
        driver_names.insert(0, "__main__.py")
    drivers: dict[str, bytes] = {}
    for name, data in package.include_files(folder).items():
        if name in driver_names:
            drivers[name] = data
        else:
            files[name] = data
    driver = next((drivers[n] for n in driver_names if n in drivers), None)
    if driver is not None:
        code = driver.decode("utf-8", errors="surrogateescape")
    return code, files


def among_its_files(program: Program, files: Mapping[str, bytes]) -> Program:
    """A program with files beside it (its own, included ones) runs in /prog, read-only,
    where the format's working directory holds them ("Working directory"; file writing
    is not allowed by default); others keep the empty, writable /box."""
    return dataclasses.replace(program, workdir="/prog") if files else program


class GraderUnavailable(Exception):
    """The package's validator or interactor cannot be used (it failed to compile)."""


class _PendingTest:
    """One test whose sandbox is being set up ahead of its turn."""

    def __init__(self, case: TestCase, limits: Limits) -> None:
        self.case = case
        self.limits = limits
        self.stack = contextlib.ExitStack()  # the box and the input file
        self.prepared: PreparedRun | None = None
        self.error = ""

    def cancel(self) -> None:
        if self.prepared is not None:
            self.prepared.cancel()
        self.stack.close()
