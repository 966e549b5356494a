"""Who ended first in an interaction, told by one waiter on both pipes (graders/hangups.py),
so that WA or RE does not depend on which sandbox's thread woke first (review finding 10)."""

from __future__ import annotations

import os
from pathlib import Path

from codebattle.judge.engine import Judge
from codebattle.judge.graders import validator as validators
from codebattle.judge.graders.hangups import INTERACTOR, SUBMISSION, HangupWatch
from codebattle.judge.graders.interactive import decide
from codebattle.judge.package import TestCase
from codebattle.judge.sandbox import RunResult
from codebattle.judge.verdicts import Verdict
from tests.judge.test_interactive import interactive


def _pipes() -> tuple[tuple[int, int], tuple[int, int]]:
    return os.pipe(), os.pipe()


def test_the_side_whose_output_closed_first_is_named() -> None:
    for closing_first in (INTERACTOR, SUBMISSION):
        (to_sub_r, to_sub_w), (from_sub_r, from_sub_w) = _pipes()
        watch = HangupWatch(to_sub_r, from_sub_r)
        first, second = (
            (to_sub_w, from_sub_w)
            if closing_first == INTERACTOR
            else (
                from_sub_w,
                to_sub_w,
            )
        )
        os.close(first)
        watch._thread.join(timeout=30)  # it returns at the first hang-up
        os.close(second)
        assert watch.close() == closing_first
        os.close(to_sub_r)
        os.close(from_sub_r)


def test_an_ended_interactor_gives_the_submission_its_epipe_back() -> None:
    (to_sub_r, to_sub_w), (from_sub_r, from_sub_w) = _pipes()
    watch = HangupWatch(to_sub_r, from_sub_r)
    os.close(from_sub_r)  # the interactor's own stdin, as its sandbox ends
    os.close(to_sub_w)  # its stdout: it ended
    watch._thread.join(timeout=30)
    try:
        os.write(from_sub_w, b"x")  # the submission writes on: no reader is left
        raise AssertionError("the watch still holds the interactor's stdin")
    except BrokenPipeError:
        pass
    assert watch.close() == INTERACTOR
    os.close(from_sub_w)
    os.close(to_sub_r)


def _run(ended_at: float, exit_code: int) -> RunResult:
    return RunResult(exit_code, None, 0.01, 0.01, 0, b"", b"", ended_at=ended_at)


def test_the_waiter_decides_over_the_sandboxes_stamps(tmp_path: Path) -> None:
    case = TestCase("secret/1", tmp_path / "1.in", tmp_path / "1.ans", sample=False)
    rejected = validators.ValidatorOutcome(Verdict.WA, "wrong")
    crashed = _run(ended_at=1.0, exit_code=1)  # stamped before the interactor ...
    interactor = _run(ended_at=2.0, exit_code=43)  # ... whose thread woke late
    assert decide(case, crashed, interactor, rejected, Verdict.RE, INTERACTOR).verdict == (
        Verdict.WA
    )
    assert decide(case, crashed, interactor, rejected, Verdict.RE, SUBMISSION).verdict == (
        Verdict.RE
    )
    # Seen together: a rejection and a plain crash are WA whatever the stamps say.
    assert decide(case, crashed, interactor, rejected, Verdict.RE, None).verdict == Verdict.WA
    assert decide(case, crashed, interactor, rejected, Verdict.TLE, None).verdict == (Verdict.TLE)


def test_a_crash_on_the_end_of_input_after_a_rejection_is_always_wa(
    judge: Judge, tmp_path: Path
) -> None:
    # The submission answers wrong, then reads on: the interactor rejects and exits, and the
    # submission's read fails at once (EOFError). It cannot end before the interactor did.
    package = interactive(tmp_path)
    code = "input()\nprint('no', flush=True)\ninput()\n"
    verdicts = [judge.judge(package, "python", code).tests[0].verdict for _ in range(8)]
    assert verdicts == [Verdict.WA] * 8
