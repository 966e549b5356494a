"""Fingerprints of submissions and how much two of them share.

`fingerprint` parses and winnows a source once; the result is small and JSON-able, so it
is stored and compared later without re-parsing. `compare` gives the share of each side's
kept hashes found in the other and the line ranges that match, for a side-by-side page;
an `Index` (hash -> keys) ranks many stored fingerprints with one lookup per hash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from codebattle.fairplay.tokens import grammar_of, tokens
from codebattle.fairplay.winnowing import kgram_hashes, winnow

K = TypeVar("K", bound=Hashable)  # what the caller stores fingerprints under

DEFAULT_K = 12  # tokens per gram: shorter shared runs are everyday idiom, not copying
DEFAULT_WINDOW = 8  # a shared run of k + window - 1 = 19 tokens always shows


@dataclass(frozen=True, slots=True)
class Lines:
    """An inclusive range of 1-based source lines."""

    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """The kept hashes of one source, each with the lines its k-gram spans."""

    language: str
    k: int
    window: int
    hashes: tuple[tuple[int, int, int], ...]  # (hash, start line, end line), in source order

    def distinct(self) -> frozenset[int]:
        return frozenset(h for h, _, _ in self.hashes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "k": self.k,
            "window": self.window,
            "hashes": [list(entry) for entry in self.hashes],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fingerprint:
        return cls(
            language=str(data["language"]),
            k=int(data["k"]),
            window=int(data["window"]),
            hashes=tuple((int(h), int(s), int(e)) for h, s, e in data["hashes"]),
        )


@dataclass(frozen=True, slots=True)
class Match:
    """How much of `a` is found in `b` and the other way round, and where."""

    a_in_b: float  # share of a's distinct kept hashes that b has too
    b_in_a: float
    score: float  # symmetric: the harmonic mean of the two shares (Dice coefficient)
    a_lines: tuple[Lines, ...] = field(default=())  # merged ranges of a that match
    b_lines: tuple[Lines, ...] = field(default=())
    shared: int = 0  # distinct kept hashes in common: how much evidence the score rests on


def fingerprint(
    language: str, code: str, *, k: int = DEFAULT_K, window: int = DEFAULT_WINDOW
) -> Fingerprint:
    """Winnow `code`'s normalised tokens; empty code gives an empty fingerprint."""
    if k < 1 or window < 1:
        raise ValueError("k and window must be positive")
    grammar_of(language)  # an unknown language fails even for empty code
    toks = tokens(language, code)
    hashes = kgram_hashes([t.text for t in toks], k)
    kept = []
    for pos in winnow(hashes, window):
        last = min(pos + k, len(toks)) - 1
        kept.append((hashes[pos], toks[pos].line, toks[last].line))
    return Fingerprint(language, k, window, tuple(kept))


def template(language: str, code: str, *, k: int = DEFAULT_K) -> Fingerprint:
    """A fingerprint of starter code or boilerplate to `subtract`: every k-gram, not winnowed.

    A submission's window that straddles the template's end may keep a template k-gram the
    template's own winnowing skipped; keeping all of them leaves none behind.
    """
    return fingerprint(language, code, k=k, window=1)


def common(fingerprints: Iterable[Fingerprint], at_least: int) -> Fingerprint:
    """Boilerplate learnt from the corpus: the hashes found in at least `at_least` of the
    fingerprints (say, solutions to different problems), as a fingerprint to `subtract`.

    A shared fast-input reader or a contest header is nobody's copying; what many
    independent sources share is noise (MOSS ignores such hashes the same way).
    """
    seen: Counter[int] = Counter()
    first: Fingerprint | None = None
    for fp in fingerprints:
        if first is not None and fp.k != first.k:
            raise ValueError("fingerprints with different k do not compare")
        first = first or fp
        seen.update(fp.distinct())
    if first is None:
        raise ValueError("no fingerprints to learn boilerplate from")
    frequent = tuple((h, 0, 0) for h, n in sorted(seen.items()) if n >= at_least)
    return Fingerprint(first.language, first.k, first.window, frequent)


def subtract(fp: Fingerprint, *others: Fingerprint) -> Fingerprint:
    """`fp` without the hashes any of `others` has (templates, common boilerplate)."""
    for other in others:
        if other.k != fp.k:
            raise ValueError("fingerprints with different k do not compare")
    drop = frozenset().union(*(o.distinct() for o in others))
    kept = tuple(entry for entry in fp.hashes if entry[0] not in drop)
    return Fingerprint(fp.language, fp.k, fp.window, kept)


def compare(a: Fingerprint, b: Fingerprint) -> Match:
    """The shares of a in b and b in a (0 for an empty side) and the matching lines."""
    if a.k != b.k:
        raise ValueError("fingerprints with different k do not compare")
    sa, sb = a.distinct(), b.distinct()
    common = sa & sb
    if not common:
        return Match(0.0, 0.0, 0.0)
    a_in_b, b_in_a = len(common) / len(sa), len(common) / len(sb)
    return Match(
        a_in_b=a_in_b,
        b_in_a=b_in_a,
        score=2 * len(common) / (len(sa) + len(sb)),
        a_lines=_merged(a, common),
        b_lines=_merged(b, common),
        shared=len(common),
    )


def _merged(fp: Fingerprint, common: frozenset[int]) -> tuple[Lines, ...]:
    spans = sorted((s, e) for h, s, e in fp.hashes if h in common)
    out: list[Lines] = []
    for start, end in spans:
        if out and start <= out[-1].end + 1:  # overlapping or adjacent lines: one fragment
            if end > out[-1].end:
                out[-1] = Lines(out[-1].start, end)
        else:
            out.append(Lines(start, end))
    return tuple(out)


class Index(Generic[K]):
    """Stored fingerprints by hash, so ranking them costs one lookup per candidate hash."""

    def __init__(self, stored: Iterable[tuple[K, Fingerprint]] = ()) -> None:
        self._keys: dict[int, list[K]] = {}
        self._stored: dict[K, Fingerprint] = {}
        self._sizes: dict[K, int] = {}
        self._order: dict[K, int] = {}  # ties rank the earlier stored first
        for key, fp in stored:
            self.add(key, fp)

    def __len__(self) -> int:
        return len(self._stored)

    def add(self, key: K, fp: Fingerprint) -> None:
        if key in self._stored:
            raise ValueError(f"key {key!r} is already indexed")
        distinct = fp.distinct()
        self._order[key] = len(self._order)
        self._stored[key] = fp
        self._sizes[key] = len(distinct)
        for h in distinct:
            self._keys.setdefault(h, []).append(key)

    def best(self, candidate: Fingerprint, limit: int) -> list[tuple[K, Match]]:
        """The `limit` stored fingerprints most like `candidate`, best first; none in common
        are left out. Only those few are compared in full, for their fragments."""
        mine = candidate.distinct()
        shared: Counter[K] = Counter()
        for h in mine:
            shared.update(self._keys.get(h, ()))
        # Rank by the symmetric score from the counts alone (the same Dice as compare).
        ranked = sorted(
            shared.items(),
            key=lambda item: (
                -2 * item[1] / (len(mine) + self._sizes[item[0]]),
                self._order[item[0]],
            ),
        )
        return [(key, compare(candidate, self._stored[key])) for key, _ in ranked[:limit]]


def best_matches(
    candidate: Fingerprint,
    stored: Index[K] | Iterable[tuple[K, Fingerprint]],
    limit: int = 10,
) -> list[tuple[K, Match]]:
    """The `limit` stored fingerprints most like `candidate`, best first.

    Pass an `Index` built once to keep the cost per candidate to lookups; a plain iterable
    is indexed on the spot (as costly as reading it).
    """
    index = stored if isinstance(stored, Index) else Index(stored)
    return index.best(candidate, limit)
