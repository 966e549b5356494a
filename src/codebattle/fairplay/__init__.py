"""Fair play: signals that a submission was copied (issue 13).

The similarity core is a pure library (`similarity.py`): `fingerprint` a source,
`subtract` templates and `common` boilerplate, `compare` two fingerprints, rank stored ones
with an `Index`. `service.examine` stores an accepted game submission's fingerprint and its
close matches (`models.py`); the recorder calls it (runtime.py). docs/fairplay.md.
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
