"""Examining an accepted game submission: its fingerprint stored once, compared with the
other players' accepted submissions in its match, the recent ones stored for its problem
and its problem version's reference solutions (which the AI opponent plays); what is alike
enough is stored for review (`similarity_matches`)."""

from __future__ import annotations

from functools import lru_cache

import structlog
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.fairplay.models import (
    REFERENCE,
    SUBMISSION,
    SimilarityMatch,
    SubmissionFingerprint,
)
from codebattle.fairplay.similarity import Fingerprint, Match, compare, fingerprint, subtract
from codebattle.fairplay.similarity import template as template_of
from codebattle.fairplay.tokens import grammar_of
from codebattle.problems.models import ProblemVersion
from codebattle.problems.templates import templates_of
from codebattle.storage import BlobStore
from codebattle.submissions import service as submissions
from codebattle.submissions.models import SUBMIT, Submission

log = structlog.get_logger(__name__)

DEFAULT_REVIEW_SCORE = 0.5  # config.SIMILARITY_REVIEW_SCORE's default
RECENT = 200  # stored fingerprints of the problem a new submission is compared with

# What nearly every solution in a language starts with, whoever wrote it: fast input and
# output set-ups. Subtracted as a template is, so it never makes two solutions alike.
BOILERPLATE: dict[str, tuple[str, ...]] = {
    "python": (
        "import sys\ninput = sys.stdin.readline\n",
        "import sys\ndata = sys.stdin.buffer.read().split()\n",
        "import sys\ndata = sys.stdin.read().split()\n",
        'if __name__ == "__main__":\n    main()\n',
    ),
    "cpp": (
        "#include <bits/stdc++.h>\nusing namespace std;\n\nint main() {\n"
        "    ios::sync_with_stdio(false);\n    cin.tie(nullptr);\n",
        "ios_base::sync_with_stdio(false);\ncin.tie(NULL);\ncout.tie(NULL);\n",
    ),
    "java": (
        "import java.io.*;\nimport java.util.*;\n\npublic class Main {\n"
        "    public static void main(String[] args) throws IOException {\n"
        "        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));\n"
        "        StringTokenizer st = new StringTokenizer(br.readLine());\n",
        "PrintWriter out = new PrintWriter(\n"
        "    new BufferedWriter(new OutputStreamWriter(System.out)));\n",
    ),
}
BOILERPLATE["pypy"] = BOILERPLATE["python"]
BOILERPLATE["c"] = BOILERPLATE["cpp"]


async def examine(
    session: AsyncSession,
    blobs: BlobStore,
    submission_id: int,
    *,
    review_score: float = DEFAULT_REVIEW_SCORE,
) -> list[SimilarityMatch]:
    """Fingerprint an accepted game submission (stored once) and store a match for each
    comparison scoring at least `review_score`; the submission's matches, old and new.

    Only an accepted ("AC") `submit` made in a match or a room is examined; anything else,
    a language without a grammar, or code lost from blob storage gives [] (logged, never
    raised). Examining again adds nothing. Rows are added and flushed: the caller commits."""
    submission = await session.get(Submission, submission_id)
    if submission is None or not _examinable(submission):
        return []
    version = await session.get(ProblemVersion, submission.problem_version_id)
    if version is None:
        return []
    mine = await _fingerprint_of(session, blobs, submission, version)
    if mine is None:
        return []
    found = {_key(row): row for row in await _matches_of(session, submission_id)}
    for key, language, other in await _candidates(session, blobs, submission, version):
        if key in found or not _comparable(mine, other):
            continue
        match = compare(mine, other)
        if match.score >= review_score and match.score > 0:
            found[key] = _row(submission_id, key, language, match)
            session.add(found[key])
    await session.flush()
    return sorted(found.values(), key=lambda row: row.id)


def _examinable(submission: Submission) -> bool:
    in_game = submission.match_id is not None or submission.room_id is not None
    return submission.kind == SUBMIT and submission.verdict == "AC" and in_game


Key = tuple[str, int | None, str]  # (other_kind, other_submission_id, other_language)


def _key(row: SimilarityMatch) -> Key:
    return (row.other_kind, row.other_submission_id, row.other_language)


def _row(submission_id: int, key: Key, language: str, match: Match) -> SimilarityMatch:
    kind, other_id, _ = key
    return SimilarityMatch(
        submission_id=submission_id,
        other_kind=kind,
        other_submission_id=other_id,
        other_language=language,
        score=match.score,
        a_in_b=match.a_in_b,
        b_in_a=match.b_in_a,
        shared=match.shared,
        fragments={
            "submission": [[lines.start, lines.end] for lines in match.a_lines],
            "other": [[lines.start, lines.end] for lines in match.b_lines],
        },
    )


async def _matches_of(session: AsyncSession, submission_id: int) -> list[SimilarityMatch]:
    return list(
        await session.scalars(
            select(SimilarityMatch).where(SimilarityMatch.submission_id == submission_id)
        )
    )


async def _candidates(
    session: AsyncSession, blobs: BlobStore, submission: Submission, version: ProblemVersion
) -> list[tuple[Key, str, Fingerprint]]:
    """What to compare with: the other players' accepted submissions in the match, the
    problem's recent stored fingerprints (not the player's own), the reference solutions.
    Only submissions made before this one: a copy is found against what it copies, and the
    original is not flagged for the copy made after it (however late the pass runs)."""
    out: dict[Key, tuple[str, Fingerprint]] = {}
    if submission.match_id is not None:
        peers = await session.scalars(
            select(Submission).where(
                Submission.match_id == submission.match_id,
                Submission.user_id != submission.user_id,
                Submission.id < submission.id,
                Submission.kind == SUBMIT,
                Submission.verdict == "AC",
            )
        )
        for peer in peers:
            fp = await _fingerprint_of(session, blobs, peer, version)
            if fp is not None:
                out[(SUBMISSION, peer.id, peer.language)] = (peer.language, fp)
    recent = await session.execute(
        select(SubmissionFingerprint)
        .join(Submission, Submission.id == SubmissionFingerprint.submission_id)
        .where(
            SubmissionFingerprint.problem_id == submission.problem_id,
            Submission.user_id != submission.user_id,
            Submission.id < submission.id,
        )
        .order_by(SubmissionFingerprint.submission_id.desc())
        .limit(RECENT)
    )
    for stored in recent.scalars():
        key = (SUBMISSION, stored.submission_id, stored.language)
        if key not in out:
            out[key] = (stored.language, Fingerprint.from_dict(stored.data))
    for language, code in sorted((version.solutions or {}).items()):
        fp = _fingerprint(version, language, code)
        if fp is not None:
            out[(REFERENCE, None, language)] = (language, fp)
    return [(key, language, fp) for key, (language, fp) in out.items()]


async def _fingerprint_of(
    session: AsyncSession, blobs: BlobStore, submission: Submission, version: ProblemVersion
) -> Fingerprint | None:
    """The stored fingerprint of a submission, made and stored on first use; None if its
    code is lost or its language has no grammar (logged)."""
    stored = await session.get(SubmissionFingerprint, submission.id)
    if stored is not None:
        return Fingerprint.from_dict(stored.data)
    code = await submissions.code_of(blobs, submission)
    if code is None:
        log.warning("fair play: submission code lost; not examined", submission=submission.id)
        return None
    fp = _fingerprint(version, submission.language, code)
    if fp is None:
        return None
    session.add(
        SubmissionFingerprint(
            submission_id=submission.id,
            problem_id=submission.problem_id,
            language=submission.language,
            data=fp.to_dict(),
        )
    )
    return fp


def _fingerprint(version: ProblemVersion, language: str, code: str) -> Fingerprint | None:
    """`code`'s fingerprint without the version's starter code and the language's
    boilerplate; None for a language without a grammar."""
    try:
        return prepared_fingerprint(language, code, templates_of(version).get(language))
    except ValueError:
        log.info("fair play: no similarity grammar; not examined", language=language)
        return None


def prepared_fingerprint(language: str, code: str, starter: str | None = None) -> Fingerprint:
    """`code`'s fingerprint without `starter` (the problem's template for the language) and
    the language's boilerplate, as stored and compared; ValueError without a grammar."""
    fp = fingerprint(language, code)
    extra = (template_of(language, starter),) if starter else ()
    return subtract(fp, *_boilerplate(language), *extra)


@lru_cache(maxsize=16)
def _boilerplate(language: str) -> tuple[Fingerprint, ...]:
    return tuple(template_of(language, code) for code in BOILERPLATE.get(language, ()))


def _comparable(a: Fingerprint, b: Fingerprint) -> bool:
    """Same grammar and k: fingerprints of different grammars share nothing meaningful."""
    try:
        return a.k == b.k and grammar_of(a.language) == grammar_of(b.language)
    except ValueError:
        return False
