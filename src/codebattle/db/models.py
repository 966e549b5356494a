"""Imports every model so that the metadata is complete (for Alembic and tests)."""

from codebattle.accounts.models import ApiToken, Identity, User
from codebattle.db.base import Base
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.submissions.models import Submission, SubmissionTest

__all__ = [
    "ApiToken",
    "Base",
    "Identity",
    "Problem",
    "ProblemVersion",
    "Submission",
    "SubmissionTest",
    "User",
]
