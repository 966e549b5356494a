"""Imports every model so that the metadata is complete (for Alembic and tests)."""

from codebattle.accounts.models import (
    ApiToken,
    AuditEntry,
    BillingKey,
    DailyGames,
    Feedback,
    GuardianConsent,
    Identity,
    InviteCode,
    Notification,
    Payment,
    PlanChange,
    Sanction,
    SignInSession,
    User,
)
from codebattle.battles.models import (
    ChatMessage,
    CodeSnapshot,
    MatchEvent,
    MatchPlayer,
    MatchRow,
    QueueTicket,
)
from codebattle.db.base import Base
from codebattle.fairplay.models import (
    AITextResult,
    EditorTelemetry,
    Flag,
    PlayerReport,
    RiskAssessment,
    SimilarityMatch,
    SubmissionFingerprint,
)
from codebattle.logsink.models import LogRecord
from codebattle.ops.models import (
    Alert,
    AlertDelivery,
    Appeal,
    AppealMessage,
    ClusterLease,
    InstanceBeat,
)
from codebattle.problems.models import Problem, ProblemVersion
from codebattle.progress.models import PlayerRating, RatingChange
from codebattle.reviews.models import CodeReview
from codebattle.rooms.models import Room, RoomEvent, RoomMember
from codebattle.submissions.models import OutboxEntry, Submission, SubmissionTest

__all__ = [
    "Alert",
    "AlertDelivery",
    "Appeal",
    "AppealMessage",
    "ClusterLease",
    "InstanceBeat",
    "Notification",
    "Sanction",
    "AITextResult",
    "CodeReview",
    "EditorTelemetry",
    "Flag",
    "LogRecord",
    "PlayerReport",
    "RiskAssessment",
    "SignInSession",
    "PlanChange",
    "Payment",
    "InviteCode",
    "GuardianConsent",
    "Feedback",
    "DailyGames",
    "BillingKey",
    "AuditEntry",
    "ApiToken",
    "Base",
    "ChatMessage",
    "CodeSnapshot",
    "Identity",
    "MatchEvent",
    "MatchPlayer",
    "MatchRow",
    "PlayerRating",
    "Problem",
    "ProblemVersion",
    "QueueTicket",
    "RatingChange",
    "Room",
    "RoomEvent",
    "RoomMember",
    "OutboxEntry",
    "SimilarityMatch",
    "Submission",
    "SubmissionFingerprint",
    "SubmissionTest",
    "User",
]
