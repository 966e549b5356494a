"""Verdicts and the results the judge reports, test by test."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    AC = "AC"  # accepted
    WA = "WA"  # wrong answer
    TLE = "TLE"  # time limit exceeded
    MLE = "MLE"  # memory limit exceeded
    RE = "RE"  # run-time error
    OLE = "OLE"  # output limit exceeded
    CE = "CE"  # compile error
    IE = "IE"  # internal error: a judge fault, never blamed on the player


_FAILURES = frozenset({Verdict.WA, Verdict.TLE, Verdict.RE, Verdict.MLE, Verdict.OLE})

# Legacy packages: problemtools' folder names under submissions/ and the verdicts each
# accepts (the verdict of the first failing case). 2025-09 packages follow
# judge/expectations.py instead.
EXPECTED_BY_FOLDER: dict[str, frozenset[Verdict]] = {
    "accepted": frozenset({Verdict.AC}),
    # Scoring problems: judged to the end; the score must be below full (judge/verify.py).
    "partially_accepted": frozenset({Verdict.AC}) | _FAILURES,
    "rejected": _FAILURES,
    "wrong_answer": frozenset({Verdict.WA}),
    "time_limit_exceeded": frozenset({Verdict.TLE}),
    "run_time_error": frozenset({Verdict.RE}),
    "memory_limit_exceeded": frozenset({Verdict.MLE, Verdict.RE}),
    "output_limit_exceeded": frozenset({Verdict.OLE}),
    "compile_error": frozenset({Verdict.CE}),
}


@dataclass
class TestResult:
    """The outcome of one test case."""

    __test__ = False  # not a pytest test class

    name: str
    verdict: Verdict
    time: float = 0.0  # CPU seconds
    wall_time: float = 0.0
    memory: int = 0  # peak bytes
    exit_code: int | None = None
    signal: int | None = None
    feedback: str = ""
    score: float | None = None  # absolute: a validator's score.txt
    sample: bool = False
    # 2025-09: a validator's score_multiplier.txt, a fraction of the case's maximum score.
    score_multiplier: float | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["verdict"] = str(self.verdict)
        return data


@dataclass
class JudgeResult:
    """The outcome of a whole submission."""

    verdict: Verdict
    tests: list[TestResult] = field(default_factory=list)
    compile_output: str = ""
    score: float | None = None
    time_limit: float = 0.0
    # How each limit was enforced on this host, e.g. {"memory": "cgroup v1"}.
    enforcement: dict[str, str] = field(default_factory=dict)
    message: str = ""

    @property
    def max_time(self) -> float:
        return max((t.time for t in self.tests), default=0.0)

    @property
    def max_memory(self) -> int:
        return max((t.memory for t in self.tests), default=0)

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "score": self.score,
            "time_limit": self.time_limit,
            "max_time": self.max_time,
            "max_memory": self.max_memory,
            "tests": [t.to_json() for t in self.tests],
            "compile_output": self.compile_output,
            "enforcement": self.enforcement,
            "message": self.message,
        }
