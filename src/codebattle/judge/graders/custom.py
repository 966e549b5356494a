"""Legacy custom graders (`graders/`, a group's `grading: custom`): the package's program
turns a group's results into the group's verdict and score, as in problemtools
(judge/grade.py there).

The grader runs in the sandbox with the group's `grader_flags` as arguments and one line per
item of the group (its test cases, then its subgroups' results) on stdin, "VERDICT SCORE"
(VERDICT one of AC, WA, TLE, RTE, MLE, OLE, JE). It must exit 0 and print one line
"VERDICT SCORE". Anything else is the package's fault: GradingError, the judgement's IE.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from codebattle.judge.compiler import Program, program_limits
from codebattle.judge.graders.base import signal_name, trim
from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import Sandbox
from codebattle.judge.verdicts import Verdict

MiB = 1 << 20
OUTPUT_BYTES = 4096
_OUTPUT_RE = re.compile(r"\s*(AC|WA|TLE|RTE|MLE|OLE|JE)\s+(-?[0-9.]+(?:[eE][-+]?[0-9]+)?)\s*")

# Our verdicts as problemtools names them on a grader's input.
GRADER_VERDICTS = {
    Verdict.AC: "AC",
    Verdict.WA: "WA",
    Verdict.TLE: "TLE",
    Verdict.RE: "RTE",
    Verdict.MLE: "MLE",
    Verdict.OLE: "OLE",
    Verdict.IE: "JE",
    Verdict.CE: "JE",  # never a test's verdict
}


class GradingError(ValueError):
    """A custom grader failed, or a group needs one the package does not have."""


@dataclass(frozen=True)
class CustomGroupGrader:
    sandbox: Sandbox
    package: ProblemPackage
    program: Program

    def __call__(
        self, items: Sequence[tuple[str, float]], flags: Sequence[str]
    ) -> tuple[str, float]:
        """The (verdict, score) of a group whose items are (verdict, score), in order."""
        if not items:
            return "AC", 0.0  # as problemtools: an empty group is not graded
        stdin = "".join(f"{verdict} {score!r}\n" for verdict, score in items).encode()
        lim = self.package.limits
        memory = min(lim.validation_memory, 2048) * MiB
        with self.sandbox.box() as box:
            run = self.sandbox.run(
                self.program.argv(memory, tuple(flags)),
                box,
                program_limits(self.program, lim.validation_time, memory, OUTPUT_BYTES),
                binds=self.program.binds(),
                stdin=stdin,
            )
        if run.cpu_exceeded or run.wall_exceeded or run.exit_code != 0 or run.signal is not None:
            why = (
                "time limit"
                if run.cpu_exceeded or run.wall_exceeded
                else signal_name(run.signal) or f"exit code {run.exit_code}"
            )
            raise GradingError(f"custom grader failed ({why}): {trim(run.stderr, 400)}".strip())
        text = run.stdout.decode(errors="replace")
        match = _OUTPUT_RE.fullmatch(text)
        if match is None:
            raise GradingError(
                f"custom grader printed {trim(run.stdout, 200)!r}, not 'VERDICT SCORE'"
            )
        try:
            score = float(match.group(2))
        except ValueError:
            raise GradingError(f"custom grader printed a bad score {match.group(2)!r}") from None
        return match.group(1), score
