from __future__ import annotations

import random

import pytest

from codebattle.battles.ai_offline import LEVELS, flawed, plan

SOLUTION = "a, b = map(int, input().split())\nprint(a + b)\n"


@pytest.mark.parametrize("level", sorted(LEVELS))
def test_the_plan_reads_types_then_submits_the_solution(level: str) -> None:
    steps = plan(SOLUTION, level, random.Random(7))
    assert [s.at for s in steps] == sorted(s.at for s in steps)
    assert steps[0].at >= LEVELS[level].read_seconds[0]
    typing = [s for s in steps if s.kind == "typing"]
    assert typing[-1].progress == 1.0 and all(not s.code for s in typing)
    assert steps[-1].kind == "submit" and steps[-1].code == SOLUTION


def test_stronger_levels_are_faster_and_fail_less() -> None:
    def finish(level: str) -> float:
        return sum(plan(SOLUTION * 10, level, random.Random(i))[-1].at for i in range(200)) / 200

    def failures(level: str) -> int:
        return sum(
            len([s for s in plan(SOLUTION, level, random.Random(i)) if s.kind == "submit"]) - 1
            for i in range(400)
        )

    assert finish("easy") > finish("medium") > finish("hard")
    assert failures("easy") > failures("medium") > failures("hard") > 0


def test_a_flawed_attempt_differs_and_a_plan_is_reproducible() -> None:
    assert flawed(SOLUTION) != SOLUTION and flawed(SOLUTION).strip()
    assert plan(SOLUTION, "medium", random.Random(3)) == plan(SOLUTION, "medium", random.Random(3))
