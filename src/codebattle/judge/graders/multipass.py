"""Multi-pass problems (2025-09 "Multi-pass validation"): the submission runs again and
again, each pass on the input the output validator wrote as nextpass.in in the previous
one, as problemtools does (judge/execute.py there):

- each pass is a plain run judged by the output validator, or, for an interactive
  multi-pass problem, an interaction (graders/interactive.py); time and memory limits hold
  for each pass, the test's time and memory are the largest pass's;
- the validator's feedback folder persists between passes (graders/feedback_state.py),
  without nextpass.in;
- a pass that fails or is rejected ends the test with its verdict; an accepted pass
  without nextpass.in ends it accepted (its score files count);
- judge errors: nextpass.in with a rejection, or no verdict within limits.validation_passes.

Like the interactive grader it runs the submission itself: `run(program, case, limits)`.
"""

from __future__ import annotations

import dataclasses
import tempfile
from dataclasses import dataclass
from pathlib import Path

from codebattle.judge.compiler import Program
from codebattle.judge.graders import feedback_state
from codebattle.judge.graders import validator as validators
from codebattle.judge.graders.base import failure_verdict, result
from codebattle.judge.graders.interactive import InteractiveGrader
from codebattle.judge.package import TestCase
from codebattle.judge.sandbox import Limits
from codebattle.judge.verdicts import TestResult, Verdict

MiB = 1 << 20


@dataclass(frozen=True)
class MultiPassGrader(InteractiveGrader):
    """`interactor` is the output validator; it talks to the submission only when the
    problem is also interactive. (An InteractiveGrader for the engine: it runs tests itself.)"""

    def run(self, program: Program, case: TestCase, limits: Limits) -> TestResult:
        passes = self.package.limits.validation_passes
        with tempfile.TemporaryDirectory(prefix="codebattle-passes-") as tmp:
            Path(tmp).chmod(0o711)  # the sandbox binds the next pass's input from here
            state = Path(tmp) / "feedback"
            state.mkdir()
            current = case
            graded: list[TestResult] = []
            for number in range(1, passes + 1):
                outcome, nextpass = self.one_pass(program, current, limits, state, number)
                graded.append(outcome)
                if outcome.verdict != Verdict.AC:
                    if nextpass is not None and outcome.verdict == Verdict.WA:
                        return _judge_error(outcome, "the validator wrote nextpass.in and rejected")
                    return _largest(outcome, graded)
                if nextpass is None:
                    return _largest(outcome, graded)
                current = dataclasses.replace(case, input=Path(tmp) / f"pass{number + 1}.in")
                current.input.write_bytes(nextpass)
                current.input.chmod(0o644)  # bound read-only into the validator's box
            return _judge_error(graded[-1], f"no verdict within {passes} passes")

    def one_pass(
        self, program: Program, case: TestCase, limits: Limits, state: Path, number: int
    ) -> tuple[TestResult, bytes | None]:
        if self.package.interactive:
            return self.interact(program, case, limits, state, number)
        sandbox, package, validator = self.sandbox, self.package, self.interactor
        with sandbox.box() as box, open(case.input, "rb") as stdin:
            run = sandbox.run(
                program.argv(package.limits.memory * MiB, case.args),
                box,
                limits,
                binds=program.binds(),
                stdin=stdin.fileno(),
                env=program.language.env,
            )
        failed = failure_verdict(run, program.language)
        if failed is not None:
            return result(case, failed, run), None
        with sandbox.box() as vbox, tempfile.TemporaryFile() as out:
            out.write(run.stdout)
            out.seek(0)
            validators.prepare_feedback(vbox, sandbox.drop_to)
            feedback_state.restore(vbox, state, sandbox.drop_to)
            val_run = sandbox.run(
                validators.argv(package, validator, case),
                vbox,
                validators.limits(package, validator),
                binds=validators.binds(validator, case),
                stdin=out.fileno(),
            )
            checked = validators.verdict(val_run, validators.judge_message(vbox))
            nextpass = feedback_state.keep(vbox, state)
            checked = feedback_state.pass_scores(vbox, package, checked, nextpass, number)
        graded = result(case, checked.verdict, run, checked.feedback)
        graded.score, graded.score_multiplier = checked.score, checked.score_multiplier
        return graded, nextpass


def _largest(last: TestResult, passes: list[TestResult]) -> TestResult:
    """The last pass's verdict, scores and feedback with the largest time and memory."""
    return dataclasses.replace(
        last,
        time=max(p.time for p in passes),
        wall_time=max(p.wall_time for p in passes),
        memory=max(p.memory for p in passes),
    )


def _judge_error(last: TestResult, why: str) -> TestResult:
    return dataclasses.replace(
        last, verdict=Verdict.IE, feedback=why, score=None, score_multiplier=None
    )
