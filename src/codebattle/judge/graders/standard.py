"""The default grader: the output is compared with the answer file by the default output
validator (judge/validators/default.py) with the package's flags."""

from __future__ import annotations

from dataclasses import dataclass

from codebattle.judge.graders.base import failure_verdict, result
from codebattle.judge.languages.base import Language
from codebattle.judge.package import ProblemPackage, TestCase
from codebattle.judge.sandbox import RunResult
from codebattle.judge.validators import default as default_validator
from codebattle.judge.verdicts import TestResult, Verdict


@dataclass(frozen=True)
class StandardGrader:
    package: ProblemPackage
    language: Language  # the submission's

    def grade(self, case: TestCase, run: RunResult) -> TestResult:
        failed = failure_verdict(run, self.language)
        if failed is not None:
            return result(case, failed, run)
        flags = self.package.output_validator_flags(case)
        try:
            ok, message = default_validator.compare(case.answer.read_bytes(), run.stdout, flags)
        except ValueError as exc:
            return result(case, Verdict.IE, run, f"validator flags: {exc}")
        return result(case, Verdict.AC if ok else Verdict.WA, run, message)
