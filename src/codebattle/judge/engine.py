"""Judges a submission against a problem package, test by test.

`Judge.stream()` yields one TestResult per test as it finishes, then the JudgeResult; a UI
can forward each item as it arrives. Two policies: stop at the first failure (the default,
as in contests) or run every test and report how many passed (`run_all=True`, always used for
scoring problems).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal as signals
import tempfile
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from codebattle.judge import languages
from codebattle.judge.compiler import Compiler, CompileResult, Program
from codebattle.judge.languages.base import Language
from codebattle.judge.package import ProblemPackage, TestCase, ValidatorSource
from codebattle.judge.sandbox import (
    Bind,
    Box,
    Limits,
    PreparedRun,
    RunResult,
    Sandbox,
    SandboxError,
    read_box_file,
)
from codebattle.judge.validators import default as default_validator
from codebattle.judge.verdicts import JudgeResult, TestResult, Verdict

MiB = 1 << 20
FEEDBACK_BYTES = 2048
ACCEPT, REJECT = 42, 43


@dataclass(frozen=True)
class CustomRun:
    """The outcome of running a program on the player's own input."""

    verdict: str  # "OK", or a failure verdict: CE, TLE, MLE, OLE, RE, IE
    stdout: str = ""
    stderr: str = ""
    time: float = 0.0
    memory: int = 0
    exit_code: int | None = None
    compile_output: str = ""


@dataclass(frozen=True)
class ValidatorOutcome:
    verdict: Verdict  # AC, WA or IE
    feedback: str
    score: float | None = None  # score.txt of a `custom score` validator


def _signal_name(sig: int | None) -> str:
    if sig is None:
        return ""
    try:
        return signals.Signals(sig).name
    except ValueError:
        return f"signal {sig}"


def _trim(data: bytes, limit: int = FEEDBACK_BYTES) -> str:
    text = data.decode("utf-8", errors="replace").strip()
    return text if len(text) <= limit else text[:limit] + " ..."


class Judge:
    """Compiles and judges submissions. One instance can serve many concurrent judgings."""

    def __init__(self, sandbox: Sandbox | None = None, compiler: Compiler | None = None) -> None:
        self.sandbox = sandbox or Sandbox()
        self.compiler = compiler or Compiler(self.sandbox)
        self._validators: dict[tuple[str, str], CompileResult] = {}
        self._lock = threading.Lock()

    # -- preparing -----------------------------------------------------------------------

    def compile_validator(self, source: ValidatorSource) -> CompileResult:
        """Validators are sources in the package, compiled in the sandbox like submissions."""
        language = languages.get(source.language)
        if source.path.is_dir():
            files = sorted(p for p in source.path.iterdir() if p.is_file())
            mains = [p for p in files if p.suffix in language.extensions]
            if len(mains) != 1:
                return CompileResult(
                    None,
                    "",
                    internal_error=(
                        f"{source.path}: expected exactly one {language.title} source, "
                        f"found {len(mains)}"
                    ),
                )
            main = mains[0]
            extra = {p.name: p.read_bytes() for p in files if p != main}
        else:
            main, extra = source.path, {}
        code = main.read_text(encoding="utf-8", errors="surrogateescape")
        key = (str(source.path), code)
        with self._lock:
            cached = self._validators.get(key)
        if cached is None:
            cached = self.compiler.compile(language, code, extra)
            with self._lock:
                self._validators[key] = cached
        return cached

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
        on_test: Callable[[TestResult | JudgeResult], None] | None = None,
    ) -> JudgeResult:
        """Judge synchronously; `on_test` gets each TestResult, then the JudgeResult."""
        lang = languages.get(language) if isinstance(language, str) else language
        result = self._judge(
            package, lang, code, run_all or package.scoring, time_limit, tests, on_test
        )
        if on_test:
            on_test(result)
        return result

    def _judge(
        self,
        package: ProblemPackage,
        lang: Language,
        code: str,
        run_all: bool,
        time_limit: float | None,
        tests: Sequence[TestCase] | None,
        on_test: Callable[[TestResult | JudgeResult], None] | None,
    ) -> JudgeResult:
        limit = time_limit or package.limits.time_limit
        if limit is None:
            raise ValueError(f"{package.short_name}: no time limit (derive one with verify)")
        enforcement = self.sandbox.enforcement
        compiled = self.compiler.compile(lang, code)
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
        validator: Program | None = None
        if package.validation == "custom":
            built = self.compile_validator(package.output_validators[0])
            if built.program is None:
                return JudgeResult(
                    Verdict.IE,
                    time_limit=limit,
                    enforcement=enforcement,
                    message=f"output validator failed to compile: "
                    f"{built.internal_error or built.output}",
                )
            validator = built.program
        results: list[TestResult] = []
        first_failure: Verdict | None = None
        cases = list(tests if tests is not None else package.tests)
        program = compiled.program
        # The next test's sandbox is set up while the current test runs (not for interactive
        # problems, whose two sandboxes are joined by pipes made per test).
        ahead = not package.interactive
        pending = self._start_test(package, program, cases[0], limit) if cases and ahead else None
        try:
            for index, case in enumerate(cases):
                if ahead:
                    current = pending
                    assert current is not None
                    # Measured: setting up the next sandbox first, then releasing this one,
                    # beats the reverse order (bench/sandbox_overhead.py).
                    pending = (
                        self._start_test(package, program, cases[index + 1], limit)
                        if index + 1 < len(cases)
                        else None
                    )
                    outcome = self._finish_test(package, current, validator)
                else:
                    try:
                        outcome = self.run_test(package, program, case, limit, validator)
                    except SandboxError as exc:
                        outcome = TestResult(
                            case.name, Verdict.IE, feedback=str(exc), sample=case.sample
                        )
                results.append(outcome)
                if on_test:
                    on_test(outcome)
                if outcome.verdict != Verdict.AC and first_failure is None:
                    first_failure = outcome.verdict
                    if not run_all:
                        break
        finally:
            if pending is not None:
                pending.cancel()
        score = None
        if package.scoring:
            from codebattle.judge.scoring import score_tree

            accepted = {t.name: t.verdict == Verdict.AC for t in results}
            scores = {t.name: t.score for t in results if t.score is not None and accepted[t.name]}
            score = score_tree(package.data, accepted, scores or None)
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
    ) -> CustomRun:
        """Run a program on the player's own input ("run with custom input"): no answer to
        compare, so the outcome is OK or the failure (CE, TLE, MLE, OLE, RE, IE)."""
        lang = languages.get(language) if isinstance(language, str) else language
        compiled = self.compiler.compile(lang, code)
        if compiled.program is None:
            verdict = "IE" if compiled.internal_error else str(Verdict.CE)
            return CustomRun(verdict, compile_output=compiled.output or compiled.internal_error)
        program = compiled.program
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
            return CustomRun("IE", stderr=str(exc))
        failed = failure_verdict(run)
        return CustomRun(
            "OK" if failed is None else str(failed),
            stdout=run.stdout.decode("utf-8", errors="replace"),
            stderr=_trim(run.stderr, FEEDBACK_BYTES),
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
        validator: Program | None = None,
    ) -> TestResult:
        if package.interactive:
            return self._run_interactive(package, program, case, time_limit)
        return self._finish_test(
            package, self._start_test(package, program, case, time_limit), validator
        )

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
                program.argv(package.limits.memory * MiB),
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
        self, package: ProblemPackage, pending: _PendingTest, validator: Program | None
    ) -> TestResult:
        case, limits = pending.case, pending.limits
        try:
            if pending.prepared is None:
                return TestResult(case.name, Verdict.IE, feedback=pending.error, sample=case.sample)
            try:
                run = pending.prepared.run()
            except SandboxError as exc:
                return TestResult(case.name, Verdict.IE, feedback=str(exc), sample=case.sample)
        finally:
            pending.stack.close()
        return self._check(package, case, limits, run, validator)

    def _check(
        self,
        package: ProblemPackage,
        case: TestCase,
        limits: Limits,
        run: RunResult,
        validator: Program | None,
    ) -> TestResult:
        failed = failure_verdict(run)
        if failed is not None:
            return self._result(case, failed, run)
        if validator is None:
            flags = package.output_validator_flags(case)
            try:
                ok, message = default_validator.compare(case.answer.read_bytes(), run.stdout, flags)
            except ValueError as exc:
                return self._result(case, Verdict.IE, run, f"validator flags: {exc}")
            return self._result(case, Verdict.AC if ok else Verdict.WA, run, message)
        checked = self.validate_output(package, validator, case, run.stdout)
        result = self._result(case, checked.verdict, run, checked.feedback)
        result.score = checked.score
        return result

    @staticmethod
    def _result(case: TestCase, verdict: Verdict, run: RunResult, feedback: str = "") -> TestResult:
        if not feedback and verdict == Verdict.RE:
            sig = _signal_name(run.signal)
            why = f"killed by {sig}" if sig else f"exit code {run.exit_code}"
            tail = _trim(run.stderr[-FEEDBACK_BYTES:], 600)
            feedback = f"{why}\n{tail}".strip()
        elif not feedback and verdict == Verdict.TLE:
            feedback = (
                "wall-clock limit exceeded" if run.wall_exceeded else "CPU time limit exceeded"
            )
        return TestResult(
            name=case.name,
            verdict=verdict,
            time=round(run.cpu_time, 4),
            wall_time=round(run.wall_time, 4),
            memory=run.memory,
            exit_code=run.exit_code,
            signal=run.signal,
            feedback=feedback,
            sample=case.sample,
        )

    # -- validators ----------------------------------------------------------------------

    def _validator_limits(self, package: ProblemPackage, validator: Program) -> Limits:
        lim = package.limits
        return program_limits(
            validator,
            lim.validation_time,
            min(lim.validation_memory, 2048) * MiB,
            lim.validation_output * MiB,
        )

    @staticmethod
    def _validator_binds(validator: Program, case: TestCase) -> list[Bind]:
        return [
            *validator.binds(),
            Bind(case.input, "/data/input"),
            Bind(case.answer, "/data/answer"),
        ]

    @staticmethod
    def _prepare_feedback(box: Box, owner: int | None) -> None:
        feedback = box.path / "feedback"
        feedback.mkdir()
        if owner is not None:
            os.chown(feedback, owner, owner)

    def validate_output(
        self, package: ProblemPackage, validator: Program, case: TestCase, output: bytes
    ) -> ValidatorOutcome:
        """Kattis interface: `validator input answer feedback_dir [flags] < output`."""
        flags = package.output_validator_flags(case)
        argv = validator.argv(
            package.limits.validation_memory * MiB,
            ("/data/input", "/data/answer", "/box/feedback/", *flags),
        )
        with self.sandbox.box() as box, tempfile.TemporaryFile() as out:
            out.write(output)
            out.seek(0)
            self._prepare_feedback(box, self.sandbox.drop_to)
            run = self.sandbox.run(
                argv,
                box,
                self._validator_limits(package, validator),
                binds=self._validator_binds(validator, case),
                stdin=out.fileno(),
            )
            message = read_box_file(box, "feedback/judgemessage.txt", FEEDBACK_BYTES) or b""
            score_text = (
                read_box_file(box, "feedback/score.txt", 64) if package.custom_score else None
            )
        outcome = self._validator_verdict(run, message)
        if score_text is not None and outcome.verdict == Verdict.AC:
            try:
                return ValidatorOutcome(outcome.verdict, outcome.feedback, float(score_text))
            except ValueError:
                return ValidatorOutcome(Verdict.IE, f"validator wrote a bad score: {score_text!r}")
        return outcome

    @staticmethod
    def _validator_verdict(run: RunResult, message: bytes) -> ValidatorOutcome:
        feedback = _trim(message)
        if run.exit_code == ACCEPT and run.signal is None:
            return ValidatorOutcome(Verdict.AC, feedback)
        if run.exit_code == REJECT:
            return ValidatorOutcome(Verdict.WA, feedback or "rejected by the output validator")
        why = (
            "time limit"
            if run.cpu_exceeded or run.wall_exceeded
            else _signal_name(run.signal) or f"exit code {run.exit_code}"
        )
        return ValidatorOutcome(
            Verdict.IE, f"output validator failed ({why}): {_trim(run.stderr, 400)}"
        )

    def _run_interactive(
        self, package: ProblemPackage, program: Program, case: TestCase, time_limit: float
    ) -> TestResult:
        built = self.compile_validator(package.output_validators[0])
        if built.program is None:
            return TestResult(
                case.name, Verdict.IE, sample=case.sample, feedback="interactor failed to compile"
            )
        interactor = built.program
        to_sub_r, to_sub_w = os.pipe()
        from_sub_r, from_sub_w = os.pipe()
        limits = self.run_limits(package, program, time_limit)
        flags = package.output_validator_flags(case)
        argv = interactor.argv(
            package.limits.validation_memory * MiB,
            ("/data/input", "/data/answer", "/box/feedback/", *flags),
        )
        val_run: list[RunResult] = []
        val_message: list[bytes] = []
        val_error: list[BaseException] = []
        handed_over = threading.Event()  # run() owns (and closes) the interactor's pipe ends

        def run_interactor() -> None:
            try:
                with self.sandbox.box() as vbox:
                    self._prepare_feedback(vbox, self.sandbox.drop_to)
                    handed_over.set()
                    val_run.append(
                        self.sandbox.run(
                            argv,
                            vbox,
                            self._validator_limits(package, interactor),
                            binds=self._validator_binds(interactor, case),
                            stdin=from_sub_r,
                            stdout=to_sub_w,
                            close_after_spawn=(from_sub_r, to_sub_w),
                        )
                    )
                    val_message.append(
                        read_box_file(vbox, "feedback/judgemessage.txt", FEEDBACK_BYTES) or b""
                    )
            except BaseException as exc:  # reported as IE below
                val_error.append(exc)
                if not handed_over.is_set():
                    for fd in (from_sub_r, to_sub_w):
                        with contextlib.suppress(OSError):
                            os.close(fd)

        thread = threading.Thread(target=run_interactor, daemon=True)
        thread.start()
        try:
            with self.sandbox.box() as box:
                run = self.sandbox.run(
                    program.argv(package.limits.memory * MiB),
                    box,
                    limits,
                    binds=program.binds(),
                    stdin=to_sub_r,
                    stdout=from_sub_w,
                    close_after_spawn=(to_sub_r, from_sub_w),
                    env=program.language.env,
                )
        finally:
            thread.join()
        if val_error or not val_run:
            return self._result(case, Verdict.IE, run, f"interactor failed: {val_error[:1]}")
        checked = self._validator_verdict(val_run[0], val_message[0] if val_message else b"")
        failed = failure_verdict(run)
        # Precedence, as Kattis: the submission's limit breaches first; then a rejection wins
        # unless the submission crashed before the interactor finished (a crash caused by the
        # interactor hanging up, SIGPIPE or BrokenPipeError, is never blamed on the player).
        if failed in (Verdict.TLE, Verdict.MLE, Verdict.OLE):
            return self._result(case, failed, run)
        if checked.verdict == Verdict.WA and (
            failed is None
            or _broken_pipe(run)
            or val_run[0].ended_at <= run.ended_at + EXIT_ORDER_MARGIN
        ):
            return self._result(case, Verdict.WA, run, checked.feedback)
        if failed is not None:
            return self._result(case, failed, run)
        return self._result(case, checked.verdict, run, checked.feedback)


# Exit times are taken when each sandbox is reaped, so a submission that crashes on the end
# of input the interactor caused can be reaped a few milliseconds before the interactor.
# Interactors that reject on end of input pause longer than this (see problem-format.md).
EXIT_ORDER_MARGIN = 0.1


def failure_verdict(run: RunResult) -> Verdict | None:
    """The verdict of a run that failed on its own (before any answer check), or None."""
    if run.output_exceeded:
        return Verdict.OLE
    if run.cpu_exceeded or run.wall_exceeded:
        return Verdict.TLE
    if run.memory_exceeded or (
        run.exit_code != 0
        and (
            b"java.lang.OutOfMemoryError: Java heap space" in run.stderr
            or b"\nMemoryError" in run.stderr
            or run.stderr.startswith(b"MemoryError")
        )
    ):
        return Verdict.MLE
    if run.exit_code != 0 or run.signal is not None:
        return Verdict.RE
    return None


def program_limits(
    program: Program, cpu_time: float, memory: int, output: int, file_size: int | None = None
) -> Limits:
    """Limits of one run: the wall clock allows for a loaded machine; the runtime's own
    memory (the JVM's) comes on top of the problem's limit; the stack may use all of it.
    `file_size` also caps the test data bubblewrap copies in for validators."""
    return Limits(
        cpu_time=cpu_time,
        wall_time=cpu_time * 2 + 2,
        memory=memory + program.language.memory_overhead,
        processes=program.language.processes,
        output=output,
        file_size=Limits.file_size if file_size is None else file_size,
        stack=memory,
    )


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


def _broken_pipe(run: RunResult) -> bool:
    return run.signal == signals.SIGPIPE or b"BrokenPipeError" in run.stderr
