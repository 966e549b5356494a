"""Imports every model so that the metadata is complete (for Alembic and tests)."""

from codebattle.accounts.models import ApiToken, Identity, User
from codebattle.battles.models import MatchEvent, MatchRow
from codebattle.db.base import Base
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.submissions.models import Submission, SubmissionTest

__all__ = [
    "ApiToken",
    "Base",
    "Identity",
    "MatchEvent",
    "MatchRow",
    "Problem",
    "ProblemVersion",
    "Submission",
    "SubmissionTest",
    "User",
]
