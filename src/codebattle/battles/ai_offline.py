"""The offline AI opponent's timeline (with MOCK_GPT5=true or no OpenAI key): it plays a
problem's reference solution on a human-like schedule. It reads the statement, types at a
pace set by its level (progress is reported as typing activity, never code), sometimes
submits a flawed first attempt, then submits the solution. The battle service turns each
step into the same submission path a person uses, and labels the player as AI everywhere.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class Level:
    name: str
    read_seconds: tuple[float, float]  # time to read the statement, drawn in this range
    chars_per_second: float
    first_try_fails: float  # probability that the first submission is flawed
    think_pause: tuple[float, float]  # after a failed attempt


LEVELS = {
    "easy": Level("easy", (40.0, 90.0), 3.0, 0.6, (30.0, 60.0)),
    "medium": Level("medium", (25.0, 60.0), 5.0, 0.35, (20.0, 40.0)),
    "hard": Level("hard", (15.0, 35.0), 8.0, 0.15, (10.0, 25.0)),
}


@dataclass(frozen=True)
class Step:
    at: float  # seconds after the match started
    kind: str  # "typing" (progress 0..1) | "submit"
    progress: float = 0.0
    code: str = ""


def flawed(solution: str) -> str:
    """A first attempt that is not quite right: the solution without its last statement."""
    lines = solution.rstrip("\n").split("\n")
    cut = next((i for i in range(len(lines) - 1, 0, -1) if lines[i].strip() not in ("", "}")), 1)
    return "\n".join(lines[:cut] + lines[cut + 1 :]) + "\n"


def plan(solution: str, level: str, rng: random.Random, typing_updates: int = 10) -> list[Step]:
    """The opponent's steps, in time order."""
    profile = LEVELS[level]
    now = rng.uniform(*profile.read_seconds)
    typing = len(solution) / profile.chars_per_second
    steps = [
        Step(now + typing * k / typing_updates, "typing", progress=k / typing_updates)
        for k in range(1, typing_updates + 1)
    ]
    now += typing
    if rng.random() < profile.first_try_fails:
        steps.append(Step(now, "submit", code=flawed(solution)))
        now += rng.uniform(*profile.think_pause)
    steps.append(Step(now, "submit", code=solution))
    return steps
