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
from pathlib import Path

from codebattle.judge.compiler import Program
from codebattle.judge.graders import feedback_state
from codebattle.judge.graders import validator as validators
from codebattle.judge.graders.base import failure_verdict, result
from codebattle.judge.graders.hangups import INTERACTOR, HangupWatch
from codebattle.judge.package import ProblemPackage, TestCase
from codebattle.judge.sandbox import Limits, RunResult, Sandbox
from codebattle.judge.verdicts import TestResult, Verdict

MiB = 1 << 20


@dataclass(frozen=True)
class InteractiveGrader:
    """Unlike the other graders it runs the submission itself: `run(program, case, limits)`."""

    sandbox: Sandbox
    package: ProblemPackage
    interactor: Program

    def run(self, program: Program, case: TestCase, limits: Limits) -> TestResult:
        return self.interact(program, case, limits)[0]

    def interact(
        self,
        program: Program,
        case: TestCase,
        limits: Limits,
        state: Path | None = None,
        number: int = 1,
    ) -> tuple[TestResult, bytes | None]:
        """One interaction; with `state` (multi-pass, graders/multipass.py: pass `number`)
        the interactor's feedback folder starts from it and is kept in it, and its
        nextpass.in returned."""
        to_sub_r, to_sub_w = os.pipe()
        from_sub_r, from_sub_w = os.pipe()
        watch = HangupWatch(to_sub_r, from_sub_r)
        package, interactor, sandbox = self.package, self.interactor, self.sandbox
        val_run: list[RunResult] = []
        val_checked: list[validators.ValidatorOutcome] = []
        val_error: list[BaseException] = []
        nextpass: list[bytes | None] = []
        handed_over = threading.Event()  # run() owns (and closes) the interactor's pipe ends

        def run_interactor() -> None:
            try:
                with sandbox.box() as vbox:
                    validators.prepare_feedback(vbox, sandbox.drop_to)
                    if state is not None:
                        feedback_state.restore(vbox, state, sandbox.drop_to)
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
                    checked = validators.verdict(val_run[0], validators.judge_message(vbox))
                    if state is None:
                        val_checked.append(validators.with_scores(vbox, package, checked))
                    else:
                        nextpass.append(feedback_state.keep(vbox, state))
                        val_checked.append(
                            feedback_state.pass_scores(vbox, package, checked, nextpass[0], number)
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
            with sandbox.box() as box:
                run = sandbox.run(
                    program.argv(package.limits.memory * MiB, case.args),
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
            first = watch.close()
        if val_error or not val_checked:
            return result(case, Verdict.IE, run, f"interactor failed: {val_error[:1]}"), None
        failed = failure_verdict(run, program.language)
        graded = decide(case, run, val_run[0], val_checked[0], failed, first)
        return graded, (nextpass[0] if nextpass else None)


def decide(
    case: TestCase,
    run: RunResult,
    val_run: RunResult,
    checked: validators.ValidatorOutcome,
    failed: Verdict | None,
    ended_first: str | None = None,
) -> TestResult:
    """The verdict of one interaction, in problemtools' order (judge/execute.py there, and
    DOMjudge's alike): a rejection by an interactor that exited first is WA whatever the
    submission did next (it may crash or hang on the closed pipe); so is an interactor's
    failure (IE) when it exited first. Else the submission's own failure (limits, then a
    crash), else the interactor's verdict. So a submission that crashed while the
    interactor was still running is RE even if the interactor then rejects what it got, or
    fails on it (problemtools calls the latter a judge error; an interactor that crashes on
    the end of input a crashed submission left is the common case, and the crash is the
    player's).

    Who ended first is `ended_first` (graders/hangups.py: one waiter saw that side's
    output close first). When it cannot tell (both seen at once), a rejection with a plain
    crash is WA: the crash may be the submission reading the end of input the rejecting
    interactor left, which must not turn into RE with how busy the machine was; otherwise
    the two sandboxes' end stamps decide."""
    if ended_first is None:
        tie_crash = checked.verdict == Verdict.WA and failed == Verdict.RE
        first = tie_crash or interactor_first(val_run, run)
    else:
        first = ended_first == INTERACTOR
    if checked.verdict == Verdict.WA and (first or broken_pipe(run)):
        return result(case, Verdict.WA, run, checked.feedback)
    if checked.verdict == Verdict.IE and (first or failed is None):
        return result(case, Verdict.IE, run, checked.feedback)
    if failed is not None:
        return result(case, failed, run)
    graded = result(case, checked.verdict, run, checked.feedback)
    graded.score = checked.score
    graded.score_multiplier = checked.score_multiplier
    return graded


def interactor_first(val_run: RunResult, run: RunResult) -> bool:
    """Whether the interactor's sandbox ended before the submission's (both clocks are
    read as each sandbox is reaped, by threads of this process)."""
    return val_run.ended_at < run.ended_at


def broken_pipe(run: RunResult) -> bool:
    """A write to the interactor's closed pipe killed the submission: the interactor had
    hung up first, whichever sandbox was reaped first."""
    return run.signal == signals.SIGPIPE or b"BrokenPipeError" in run.stderr
