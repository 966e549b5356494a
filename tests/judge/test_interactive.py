"""Interactive problems in the real sandbox: who ended first decides between WA and RE, as
in problemtools, and an interactor's score files count like an output validator's."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from codebattle.judge.engine import Judge
from codebattle.judge.loader import load_package
from codebattle.judge.package import ProblemPackage
from codebattle.judge.verdicts import Verdict
from tests.support.packages import make_package

# Reads one line from the submission; accepts "ok", rejects anything else. On end of input it
# waits a little before rejecting: well within the old 0.1 s margin that blamed the crash on
# the interactor, so a submission that crashed first must still be RE.
INTERACTOR = """import sys, time
fb = sys.argv[3]
print('hello', flush=True)
line = sys.stdin.readline()
if not line:
    time.sleep(0.05)
    open(fb + 'judgemessage.txt', 'w').write('no answer')
    sys.exit(43)
if line.strip() != 'ok':
    open(fb + 'judgemessage.txt', 'w').write('wrong: ' + line.strip())
    sys.exit(43)
extra = open(sys.argv[1]).read().split()  # a score file to write, and its value
if extra:
    open(fb + extra[0], 'w').write(extra[1])
sys.exit(42)
"""


def interactive(tmp_path: Path, given: str = "\n", **yaml_data: object) -> ProblemPackage:
    pkg = make_package(
        tmp_path,
        yaml_data={"validation": "custom interactive", **yaml_data},
        cases={"secret/1": (given, "\n")},
        files={"output_validators/talk/talk.py": INTERACTOR},
    )
    return load_package(pkg)


def one(judge: Judge, package: ProblemPackage, code: str, time_limit: float = 1.0) -> Verdict:
    result = judge.judge(package, "python", code, time_limit=time_limit)
    assert len(result.tests) == 1
    return result.tests[0].verdict


def test_a_crash_after_the_interactor_rejected_is_wa(judge: Judge, tmp_path: Path) -> None:
    package = interactive(tmp_path)
    code = "import sys, time\ninput()\nprint('no', flush=True)\ntime.sleep(0.5)\nsys.exit(3)\n"
    assert one(judge, package, code) == Verdict.WA
    # Hanging after the rejection is WA too: the interactor ended first.
    hang = "import time\ninput()\nprint('no', flush=True)\ntime.sleep(30)\n"
    assert one(judge, package, hang, time_limit=0.5) == Verdict.WA


def test_a_crash_before_the_interactor_finished_is_re(judge: Judge, tmp_path: Path) -> None:
    package = interactive(tmp_path)
    assert one(judge, package, "import sys\ninput()\nsys.exit(3)\n") == Verdict.RE
    java_like = "input()\nraise RuntimeError('NoSuchElementException')\n"
    assert one(judge, package, java_like) == Verdict.RE


def test_an_accepted_interaction_with_a_crash_is_re(judge: Judge, tmp_path: Path) -> None:
    package = interactive(tmp_path)
    code = "import sys, time\ninput()\nprint('ok', flush=True)\ntime.sleep(0.3)\nsys.exit(3)\n"
    assert one(judge, package, code) == Verdict.RE
    assert one(judge, package, "input()\nprint('ok')\n") == Verdict.AC


def test_an_interactor_writes_score_txt(judge: Judge, tmp_path: Path) -> None:
    package = interactive(
        tmp_path, "score.txt 12.5\n", type="scoring", validation="custom interactive score"
    )
    result = judge.judge(package, "python", "input()\nprint('ok')\n")
    assert result.verdict == Verdict.AC
    assert result.tests[0].score == 12.5 and result.score == 12.5


def test_an_interactor_writes_a_score_multiplier_in_2025(judge: Judge, tmp_path: Path) -> None:
    legacy = interactive(
        tmp_path, "score_multiplier.txt 0.25\n", type="scoring", validation="custom interactive"
    )
    package = dataclasses.replace(legacy, format_version="2025-09")
    result = judge.judge(package, "python", "input()\nprint('ok')\n")
    assert result.tests[0].verdict == Verdict.AC
    assert result.tests[0].score_multiplier == 0.25 and result.tests[0].score is None


CRASHING = """import sys
if open(sys.argv[1]).read().strip() == 'broken':
    raise SystemExit(1)  # the interactor's own bug, before it talks
print('hello', flush=True)
line = input()  # EOFError when the submission has gone
sys.exit(42 if line == 'ok' else 43)
"""


def test_an_interactor_crash_is_ie_unless_the_submission_crashed_first(
    judge: Judge, tmp_path: Path
) -> None:
    def package(given: str, name: str) -> ProblemPackage:
        pkg = make_package(
            tmp_path,
            name,
            yaml_data={"validation": "custom interactive"},
            cases={"secret/1": (given, "\n")},
            files={"output_validators/talk/talk.py": CRASHING},
        )
        return load_package(pkg)

    eof = package("\n", "eof")
    assert one(judge, eof, "import sys\ninput()\nsys.exit(3)\n") == Verdict.RE
    assert one(judge, eof, "input()\nprint('ok')\n") == Verdict.AC
    broken = package("broken\n", "broken")
    assert one(judge, broken, "import time\ntime.sleep(0.3)\nprint('ok')\n") == Verdict.IE
