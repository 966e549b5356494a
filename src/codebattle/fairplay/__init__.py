"""Fair play: signals that a submission was copied (issue 13).

So far the similarity core only, a pure library: `fingerprint` a source, `subtract`
templates and `common` boilerplate, `compare` two fingerprints, rank stored ones with an
`Index`.
"""

from codebattle.fairplay.similarity import (
    Fingerprint,
    Index,
    Lines,
    Match,
    best_matches,
    common,
    compare,
    fingerprint,
    subtract,
    template,
)

__all__ = [
    "Fingerprint",
    "Index",
    "Lines",
    "Match",
    "best_matches",
    "common",
    "compare",
    "fingerprint",
    "subtract",
    "template",
]
