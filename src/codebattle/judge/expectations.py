"""What each example submission must do: submissions/submissions.yaml and the default
folder rules of the 2025-09 format ("Example submissions", "Test data groups", "Glob
patterns", "Default directories", "Timelimit inference").

`read_submissions_yaml(package_root, warn)` parses the file once; submission discovery reads
`language` / `entrypoint` from it (`SubmissionsYaml.metadata`), `judge verify` the rules
(`SubmissionsYaml.rules`) and checks a judged submission with `check`.

Verdicts here are the format's four: AC, WA, TLE, RTE. Our MLE, OLE and RE count as RTE; a
compile error or a judge fault satisfies no rule (it is reported as what it is).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from codebattle.judge.package import PackageError
from codebattle.judge.package_reader import parse_yaml
from codebattle.judge.verdicts import TestResult, Verdict

__all__ = [
    "DEFAULT_RULES",
    "FORMAT_VERDICTS",
    "Rule",
    "SubmissionMeta",
    "SubmissionsYaml",
    "GlobTooComplex",
    "check",
    "check_glob",
    "expand_braces",
    "format_verdict",
    "glob_matches",
    "group_names",
    "needs_every_case",
    "read_submissions_yaml",
]

FORMAT_VERDICTS = frozenset({"AC", "WA", "TLE", "RTE"})
_RULE_KEYS = ("permitted", "required", "score", "message", "use_for_time_limit")
_META_KEYS = ("language", "entrypoint", "authors", "model_solution")

# The format's default folders and their rules ("Default directories").
_DEFAULTS: dict[str, dict[str, Any]] = {
    "accepted": {"permitted": ["AC"]},
    "rejected": {"required": ["RTE", "TLE", "WA"]},
    "wrong_answer": {"permitted": ["AC", "WA"], "required": ["WA"]},
    "time_limit_exceeded": {"permitted": ["AC", "TLE"], "required": ["TLE"]},
    "run_time_error": {"permitted": ["AC", "RTE"], "required": ["RTE"]},
    # brute_force: by default not used for the time limit.
    "brute_force": {
        "permitted": ["AC", "RTE", "TLE"],
        "required": ["RTE", "TLE"],
        "use_for_time_limit": False,
    },
}


def format_verdict(verdict: Verdict) -> str | None:
    """The format's verdict for one of ours: MLE, OLE and RE are RTE; CE and IE have none."""
    if verdict in (Verdict.AC, Verdict.WA, Verdict.TLE):
        return str(verdict)
    if verdict in (Verdict.RE, Verdict.MLE, Verdict.OLE):
        return "RTE"
    return None


@dataclass(frozen=True)
class Rule:
    """One requirement on a submission, over the test cases `cases` selects (None: all)."""

    source: str  # where it comes from, for reports: "default accepted", "accepted/*"
    cases: str | None = None  # a test case / group glob relative to data/, or None
    permitted: frozenset[str] | None = None
    required: frozenset[str] | None = None
    score: tuple[float, float] | None = None
    message: str | None = None
    use_for_time_limit: bool | str | None = None  # None: as the spec infers it

    def applies_to(self, case_name: str) -> bool:
        return self.cases is None or glob_matches(self.cases, case_name)

    @property
    def lower_bound(self) -> bool:
        """Bounds the time limit from below: may not TLE, or opted in with `lower`."""
        if self.use_for_time_limit == "lower":
            return True
        if self.use_for_time_limit is False or self.use_for_time_limit == "upper":
            return False
        return self.permitted is not None and "TLE" not in self.permitted

    @property
    def upper_bound(self) -> bool:
        """Bounds the time limit from above: must TLE somewhere, or opted in with `upper`."""
        if self.use_for_time_limit == "upper":
            return True
        if self.use_for_time_limit is False or self.use_for_time_limit == "lower":
            return False
        return self.required == frozenset({"TLE"})


@dataclass
class SubmissionMeta:
    language: str | None = None  # a language code of the format, e.g. "python3"
    entrypoint: str | None = None
    authors: list[str] = field(default_factory=list)
    model_solution: bool = False


@dataclass
class SubmissionsYaml:
    """submissions/submissions.yaml as read: glob -> its map, in file order."""

    entries: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def matching(self, rel_path: str) -> list[tuple[str, dict[str, Any]]]:
        """The entries whose glob matches the submission at `rel_path` (relative to
        submissions/) or one of its parent folders."""
        return [(key, value) for key, value in self.entries if glob_matches(key, rel_path)]

    def metadata(self, rel_path: str) -> SubmissionMeta:
        """language, entrypoint, authors and model_solution; later entries win."""
        meta = SubmissionMeta()
        for _, value in self.matching(rel_path):
            if isinstance(value.get("language"), str):
                meta.language = value["language"]
            if isinstance(value.get("entrypoint"), str):
                meta.entrypoint = value["entrypoint"]
            if "authors" in value:
                authors = value["authors"]
                meta.authors = (
                    [str(a) for a in authors] if isinstance(authors, list) else [str(authors)]
                )
            if "model_solution" in value:
                meta.model_solution = bool(value["model_solution"])
        return meta

    def rules(self, rel_path: str) -> list[Rule]:
        """Every rule the submission at `rel_path` must satisfy: its folder's default rule
        (overridden key by key by an entry named exactly as the folder), then the rules of
        every other matching entry, top-level and per test group."""
        folder = rel_path.split("/", 1)[0]
        rules: list[Rule] = []
        default = dict(_DEFAULTS.get(folder, {}))
        override = next((v for k, v in self.entries if k == folder), None)
        if override is not None:
            default.update({k: override[k] for k in _RULE_KEYS if k in override})
        if default:
            rules.append(_rule(f"folder {folder}", None, default))
        for key, value in self.matching(rel_path):
            if override is not None and key == folder:
                tops: dict[str, Any] = {}  # already merged into the folder's rule
            else:
                tops = {k: value[k] for k in _RULE_KEYS if k in value}
            if tops:
                rules.append(_rule(key, None, tops))
            for sub_key, sub_value in value.items():
                if (
                    sub_key in _RULE_KEYS
                    or sub_key in _META_KEYS
                    or not isinstance(sub_value, dict)
                ):
                    continue
                group = {k: sub_value[k] for k in _RULE_KEYS if k in sub_value}
                if group:
                    rules.append(_rule(f"{key} {sub_key}", sub_key, group))
        return rules


def read_submissions_yaml(root: Path, warn: Callable[[str], None]) -> SubmissionsYaml:
    """Parse `root`/submissions/submissions.yaml (absent: no entries). Malformed values are
    warned about, naming the key, and left out."""
    path = root / "submissions" / "submissions.yaml"
    if not path.is_file():
        return SubmissionsYaml()
    where = "submissions/submissions.yaml"
    try:
        data = parse_yaml(path.read_text(encoding="utf-8-sig"), where)
    except (OSError, UnicodeDecodeError) as exc:
        warn(f"{where}: ignored, cannot be read: {str(exc).splitlines()[0]}")
        return SubmissionsYaml()
    except PackageError as exc:
        warn(f"{where}: ignored, {exc.message}")
        return SubmissionsYaml()
    if data is None:
        return SubmissionsYaml()
    if not isinstance(data, dict):
        warn(f"{where}: ignored, must be a map of glob patterns")
        return SubmissionsYaml()
    parsed = SubmissionsYaml()
    for key, value in data.items():
        if not isinstance(value, dict):
            warn(f"{where}: {key}: ignored, must be a map")
            continue
        refused = check_glob(str(key))
        if refused is not None:
            warn(f"{where}: {str(key)[:60]}...: ignored, the glob {refused}")
            continue
        clean = _clean(f"{where}: {key}", value, warn, top=True)
        parsed.entries.append((str(key), clean))
    return parsed


def _clean(
    where: str, value: Mapping[str, Any], warn: Callable[[str], None], *, top: bool
) -> dict[str, Any]:
    """Check each key's type; warn about and drop bad or unknown ones."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        key = str(key)
        if key in ("permitted", "required"):
            verdicts = item if isinstance(item, list) else None
            if verdicts is None or not all(str(v) in FORMAT_VERDICTS for v in verdicts):
                warn(f"{where}: {key}: ignored, must be a list of AC, WA, TLE, RTE")
                continue
            out[key] = [str(v) for v in verdicts]
        elif key == "score":
            if _score_range(item) is None:
                warn(f"{where}: score: ignored, must be a number or a list of two numbers")
                continue
            out[key] = item
        elif key == "message":
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                warn(f"{where}: message: ignored, must be a string")
                continue
            out[key] = str(item)
        elif key == "use_for_time_limit":
            if item not in (True, False, "lower", "upper"):
                warn(f"{where}: use_for_time_limit: ignored, must be a bool, lower or upper")
                continue
            out[key] = item
        elif top and key in _META_KEYS:
            out[key] = item
        elif top and isinstance(item, dict):
            refused = check_glob(key)
            if refused is not None:
                warn(f"{where}: {str(key)[:60]}...: ignored, the glob {refused}")
                continue
            out[key] = _clean(f"{where}: {key}", item, warn, top=False)  # a test group
        else:
            warn(f"{where}: {key}: ignored, unknown key")
    return out


def _score_range(value: Any) -> tuple[float, float] | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value), float(value)
    if (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        low, high = float(value[0]), float(value[1])
        return (low, high) if low <= high else None
    return None


def _rule(source: str, cases: str | None, value: Mapping[str, Any]) -> Rule:
    def verdicts(key: str) -> frozenset[str] | None:
        return frozenset(value[key]) if key in value else None

    rule = Rule(
        source,
        cases,
        permitted=verdicts("permitted"),
        required=verdicts("required"),
        score=_score_range(value["score"]) if "score" in value else None,
        message=value.get("message"),
        use_for_time_limit=value.get("use_for_time_limit"),
    )
    # `lower` means permitted [AC, WA, RTE]; `upper` means required [TLE].
    if rule.use_for_time_limit == "lower" and rule.permitted is None:
        rule = replace(rule, permitted=frozenset({"AC", "WA", "RTE"}))
    if rule.use_for_time_limit == "upper" and rule.required is None:
        rule = replace(rule, required=frozenset({"TLE"}))
    return rule


# -- globs ------------------------------------------------------------------------------

# A glob longer than this, or naming more paths than this once its braces are expanded, is
# refused (warned about and skipped): matching stays cheap whatever the file holds.
MAX_GLOB_LENGTH = 500
MAX_GLOB_EXPANSIONS = 256


class GlobTooComplex(ValueError):
    """A glob over MAX_GLOB_LENGTH characters or MAX_GLOB_EXPANSIONS brace expansions."""


def expand_braces(pattern: str, limit: int = MAX_GLOB_EXPANSIONS) -> list[str]:
    """`{a,b}.py` -> [`a.py`, `b.py`], nested and repeated braces too; an unmatched brace
    is literal. Raises GlobTooComplex past `limit` patterns (checked as they are made, so a
    brace bomb stops early)."""
    start = pattern.find("{")
    while start != -1:
        depth, choices, piece_start = 0, [], start + 1
        for index in range(start, len(pattern)):
            char = pattern[index]
            if char == "{":
                depth += 1
            elif char == "}":
                depth -= 1
                if depth == 0:
                    choices.append(pattern[piece_start:index])
                    head = pattern[:start]
                    tails = expand_braces(pattern[index + 1 :], limit)
                    out: list[str] = []
                    for choice in choices:
                        for inner in expand_braces(choice, limit):
                            if len(out) + len(tails) > limit:
                                raise GlobTooComplex(f"names over {limit} paths")
                            out.extend(head + inner + rest for rest in tails)
                    return out
            elif char == "," and depth == 1:
                choices.append(pattern[piece_start:index])
                piece_start = index + 1
        start = pattern.find("{", start + 1)  # unmatched: try a later brace
    return [pattern]


# One expanded glob: its path parts, each as the literal pieces between its `*`s.
_Glob = tuple[tuple[str, ...], ...]


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[_Glob, ...]:
    """`pattern`'s brace expansions, split for matching. Raises GlobTooComplex."""
    if len(pattern) > MAX_GLOB_LENGTH:
        raise GlobTooComplex(f"longer than {MAX_GLOB_LENGTH} characters")
    return tuple(
        tuple(tuple(part.split("*")) for part in expanded.split("/"))
        for expanded in expand_braces(pattern.strip("/"))
    )


def check_glob(pattern: str) -> str | None:
    """Why `pattern` is refused (too long, too many brace expansions), or None."""
    try:
        _compiled(pattern)
    except GlobTooComplex as exc:
        return str(exc)
    return None


def _part_matches(pieces: tuple[str, ...], text: str) -> bool:
    """Whether one path part matches a glob part given as the pieces between its `*`s.
    Only `*` is a wildcard (`?`, `[` are literal), so placing each middle piece at its
    first fit is exact: linear work, no backtracking."""
    if len(pieces) == 1:
        return text == pieces[0]
    first, *middle, last = pieces
    if len(text) < len(first) + len(last) or not text.startswith(first):
        return False
    if not text.endswith(last):
        return False
    position, end = len(first), len(text) - len(last)
    for piece in middle:
        found = text.find(piece, position, end)
        if found == -1:
            return False
        position = found + len(piece)
    return True


def _glob_matches_exactly(glob: _Glob, parts: Sequence[str]) -> bool:
    """`*` stays within one path part, so the parts pair up one to one."""
    return len(glob) == len(parts) and all(map(_part_matches, glob, parts))


def glob_matches(pattern: str, path: str) -> bool:
    """Whether `pattern` matches `path` or one of its parent folders (paths use `/`). A
    refused pattern (check_glob) matches nothing."""
    try:
        globs = _compiled(pattern)
    except GlobTooComplex:
        return False
    pieces = path.strip("/").split("/")
    candidates = [pieces[: i + 1] for i in range(len(pieces))]
    return any(_glob_matches_exactly(g, c) for g in globs for c in candidates)


# -- checking ---------------------------------------------------------------------------


def needs_every_case(rules: Iterable[Rule]) -> bool:
    """Whether checking `rules` needs the verdict of every test case, not just the cases up
    to the first failure (the judge then runs them all)."""
    every_failure = frozenset({"WA", "TLE", "RTE"})
    for rule in rules:
        if rule.cases is not None or rule.message is not None:
            return True
        if rule.permitted is not None and rule.permitted - {"AC"}:
            return True
        if rule.required is not None and not every_failure <= rule.required:
            return True
    return False


@dataclass(frozen=True)
class Failure:
    rule: Rule
    why: str

    def __str__(self) -> str:
        return f"{self.rule.source}: {self.why}"


def group_names(pattern: str, names: Iterable[str]) -> list[str]:
    """The `names` (test data groups relative to data/: "secret", "secret/g1") that
    `pattern` matches itself, not through a parent folder: the groups a `score` under a
    group key is about ("The score key puts a constraint on the aggregated score of a given
    test data group")."""
    try:
        globs = _compiled(pattern)
    except GlobTooComplex:
        return []
    return [name for name in names if any(_glob_matches_exactly(g, name.split("/")) for g in globs)]


def check(
    rules: Sequence[Rule],
    tests: Sequence[TestResult],
    score: float | None,
    group_scores: Callable[[str], Mapping[str, float]] | None = None,
) -> list[Failure]:
    """The rules `tests` (one submission's judged cases) break. `score` is the submission's
    score (scoring problems); `group_scores(glob)` the aggregated scores of the test groups
    the glob names, by name (none: the rule's score is not checked). A group's score is
    checked even when none of its cases ran (2025-09 require_pass: it scores 0)."""
    failures: list[Failure] = []
    for rule in rules:
        if rule.score is not None and rule.cases is not None and group_scores is not None:
            for name, got in group_scores(rule.cases).items():
                failures.extend(_score_failures(rule, got, f"{name} "))
        cases = [t for t in tests if rule.applies_to(t.name)]
        if rule.cases is not None and not cases:
            continue  # a group the submission never reached (or no such group)
        verdicts = [(t, format_verdict(t.verdict)) for t in cases]
        odd = next(((t, v) for t, v in verdicts if v is None), None)
        if odd is not None:
            failures.append(Failure(rule, f"{odd[0].name} gets {odd[0].verdict}"))
            continue
        if rule.permitted is not None:
            bad = next(((t, v) for t, v in verdicts if v not in rule.permitted), None)
            if bad is not None:
                allowed = ", ".join(sorted(rule.permitted))
                failures.append(Failure(rule, f"{bad[0].name} gets {bad[1]}, not in [{allowed}]"))
        if rule.required is not None and not any(v in rule.required for _, v in verdicts):
            wanted = ", ".join(sorted(rule.required))
            failures.append(Failure(rule, f"no case gets one of [{wanted}]"))
        if rule.message is not None and not any(rule.message in t.feedback for t in cases):
            failures.append(Failure(rule, f"no judge message contains {rule.message!r}"))
        if rule.score is not None and rule.cases is None:
            failures.extend(_score_failures(rule, score, ""))
    return failures


def _score_failures(rule: Rule, got: float | None, what: str) -> list[Failure]:
    """A failure if `got` (the submission's score, or group `what`'s) is not rule.score."""
    assert rule.score is not None
    low, high = rule.score
    if got is None:
        return [Failure(rule, "a score is expected but none was given")]
    if not low - 1e-9 <= got <= high + 1e-9:
        wanted = f"{low:g}" if low == high else f"[{low:g}, {high:g}]"
        return [Failure(rule, f"{what}score {got:g}, expected {wanted}")]
    return []


DEFAULT_RULES = {
    folder: _rule(f"folder {folder}", None, value) for folder, value in _DEFAULTS.items()
}
