"""Interactive problems: the package's interactor and the submission run at the same time in
two sandboxes, each one's stdout piped to the other's stdin. The interactor's exit code is
the verdict (as an output validator's, judge/graders/validator.py), weighed against how the
submission ended."""

from __future__ import annotations

import contextlib
import os
import signal as signals
import threading
from dataclasses import dataclass

from codebattle.judge.compiler import Program
from codebattle.judge.graders import validator as validators
from codebattle.judge.graders.base import failure_verdict, result
from codebattle.judge.package import ProblemPackage, TestCase
from codebattle.judge.sandbox import Limits, RunResult, Sandbox
from codebattle.judge.verdicts import TestResult, Verdict

MiB = 1 << 20
# Exit times are taken when each sandbox is reaped, so a submission that crashes on the end
# of input the interactor caused can be reaped a few milliseconds before the interactor.
# Interactors that reject on end of input pause longer than this (see problem-format.md).
EXIT_ORDER_MARGIN = 0.1


@dataclass(frozen=True)
class InteractiveGrader:
    """Unlike the other graders it runs the submission itself: `run(program, case, limits)`."""

    sandbox: Sandbox
    package: ProblemPackage
    interactor: Program

    def run(self, program: Program, case: TestCase, limits: Limits) -> TestResult:
        to_sub_r, to_sub_w = os.pipe()
        from_sub_r, from_sub_w = os.pipe()
        package, interactor, sandbox = self.package, self.interactor, self.sandbox
        val_run: list[RunResult] = []
        val_message: list[bytes] = []
        val_error: list[BaseException] = []
        handed_over = threading.Event()  # run() owns (and closes) the interactor's pipe ends

        def run_interactor() -> None:
            try:
                with sandbox.box() as vbox:
                    validators.prepare_feedback(vbox, sandbox.drop_to)
                    handed_over.set()
                    val_run.append(
                        sandbox.run(
                            validators.argv(package, interactor, case),
                            vbox,
                            validators.limits(package, interactor),
                            binds=validators.binds(interactor, case),
                            stdin=from_sub_r,
                            stdout=to_sub_w,
                            close_after_spawn=(from_sub_r, to_sub_w),
                        )
                    )
                    val_message.append(validators.judge_message(vbox))
            except BaseException as exc:  # reported as IE below
                val_error.append(exc)
                if not handed_over.is_set():
                    for fd in (from_sub_r, to_sub_w):
                        with contextlib.suppress(OSError):
                            os.close(fd)

        thread = threading.Thread(target=run_interactor, daemon=True)
        thread.start()
        try:
            with sandbox.box() as box:
                run = sandbox.run(
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
            return result(case, Verdict.IE, run, f"interactor failed: {val_error[:1]}")
        checked = validators.verdict(val_run[0], val_message[0] if val_message else b"")
        failed = failure_verdict(run, program.language)
        # Precedence, as Kattis: the submission's limit breaches first; then a rejection wins
        # unless the submission crashed before the interactor finished (a crash caused by the
        # interactor hanging up, SIGPIPE or BrokenPipeError, is never blamed on the player).
        if failed in (Verdict.TLE, Verdict.MLE, Verdict.OLE):
            return result(case, failed, run)
        if checked.verdict == Verdict.WA and (
            failed is None
            or broken_pipe(run)
            or val_run[0].ended_at <= run.ended_at + EXIT_ORDER_MARGIN
        ):
            return result(case, Verdict.WA, run, checked.feedback)
        if failed is not None:
            return result(case, failed, run)
        return result(case, checked.verdict, run, checked.feedback)


def broken_pipe(run: RunResult) -> bool:
    return run.signal == signals.SIGPIPE or b"BrokenPipeError" in run.stderr
