"""The feedback folder of a multi-pass validator, kept between passes (2025-09 "Multi-pass
validation": every file but nextpass.in persists; judgemessage.txt is appended to). It is
copied out of each validator's box after its pass and back into the next one's."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from codebattle.judge.graders import validator as validators
from codebattle.judge.package import ProblemPackage
from codebattle.judge.sandbox import Box, SandboxError, copy_box_tree
from codebattle.judge.verdicts import Verdict

NEXT_INPUT = "nextpass.in"
MAX_FILES = 100
MAX_BYTES = 256 << 20  # nextpass.in is the next pass's input


def restore(box: Box, state: Path, owner: int | None) -> None:
    """Put the kept files into the box's (new, empty) feedback folder."""
    for path in sorted(state.rglob("*")):
        rel = path.relative_to(state)
        target = box.path / "feedback" / rel
        if path.is_dir():
            target.mkdir(exist_ok=True)
        else:
            shutil.copyfile(path, target)
        if owner is not None:
            os.chown(target, owner, owner)


def keep(box: Box, state: Path) -> bytes | None:
    """Copy the box's feedback folder to `state` (replacing what it held); return the
    nextpass.in the validator wrote, or None, and do not keep it."""
    shutil.rmtree(state, ignore_errors=True)
    state.mkdir()
    try:
        copy_box_tree(box, "feedback", state, MAX_FILES, MAX_BYTES)
    except SandboxError:
        raise SandboxError("the validator's feedback folder is too large") from None
    nextpass = state / NEXT_INPUT
    if not nextpass.is_file():
        return None
    data = nextpass.read_bytes()
    nextpass.unlink()
    return data


def pass_scores(
    box: Box,
    package: ProblemPackage,
    outcome: validators.ValidatorOutcome,
    nextpass: bytes | None,
    number: int,
) -> validators.ValidatorOutcome:
    """`outcome` of pass `number` with its score files, read after the last pass only: the
    files persist, so a score.txt an earlier pass wrote is still there. A pass that asks
    for another (nextpass.in) has no score yet; a rejection after the first pass is a
    rejection whatever an earlier pass left (the score files are not the test's then)."""
    if nextpass is not None or (outcome.verdict != Verdict.AC and number > 1):
        return outcome
    return validators.with_scores(box, package, outcome)
