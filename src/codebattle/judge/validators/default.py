"""problemtools' default output validator, as a pure function.

`compare(answer, output, flags)` returns `(accepted, feedback)`; feedback is "" when the
output is accepted, else one line such as
"Wrong answer on line 3 token 2: expected '5', got '6'" (line and token of the output).

Flags, exactly those of problemtools' default_validator (the problem's `validator_flags`
followed by the group's `output_validator_flags`):

- `case_sensitive`: tokens must match in case too (default: ASCII case is ignored, like
  strcasecmp).
- `space_change_sensitive`: whitespace must match byte for byte, trailing newline included
  (default: any run of whitespace separates tokens and leading/trailing space is ignored).
- `float_absolute_tolerance E`, `float_relative_tolerance E`, `float_tolerance E` (sets
  both): where the answer token is a finite number, the output token must be a finite
  number with |answer - output| <= E_abs or |answer - output| <= E_rel * |answer|.
  Without a tolerance flag every token is compared as a string.

Numbers are read as C's strtod does (decimal or hexadecimal, no "inf"/"nan", which compare
as strings). Work is on bytes, so output that is not UTF-8 is simply a wrong answer, and
lists are compared in C so a 10 MB output takes well under a second.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, islice

__all__ = ["ValidatorOptions", "compare", "parse_flags"]

# C's isspace() in the "C" locale, which is also what bytes.split() splits on.
_WS_SPLIT = re.compile(rb"([ \t\n\r\x0b\x0c]+)")
_TOKEN = re.compile(rb"[^ \t\n\r\x0b\x0c]+")
_HEX_FLOAT = re.compile(
    rb"[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?[0-9]+)?"
)
_SHOWN_TOKEN = 60  # characters of a token quoted in feedback


@dataclass(frozen=True)
class ValidatorOptions:
    case_sensitive: bool = False
    space_change_sensitive: bool = False
    # Negative means "not given", as in problemtools (a given negative value disables it too).
    float_absolute_tolerance: float = -1.0
    float_relative_tolerance: float = -1.0

    @property
    def use_floats(self) -> bool:
        return self.float_absolute_tolerance >= 0 or self.float_relative_tolerance >= 0


def parse_flags(flags: Sequence[str]) -> ValidatorOptions:
    """Read default-validator flags; raises ValueError on an unknown flag or a bad number."""
    words = flags.split() if isinstance(flags, str) else list(flags)
    case_sensitive = space_change_sensitive = False
    abs_tol = rel_tol = -1.0
    i = 0
    while i < len(words):
        flag = words[i]
        if flag == "case_sensitive":
            case_sensitive = True
        elif flag == "space_change_sensitive":
            space_change_sensitive = True
        elif flag in ("float_absolute_tolerance", "float_relative_tolerance", "float_tolerance"):
            if i + 1 == len(words):
                raise ValueError(f"default validator flag {flag} needs a number after it")
            value = _parse_float(words[i + 1].encode("utf-8", "replace"))
            if value is None:
                raise ValueError(
                    f"default validator flag {flag} needs a finite number, got {words[i + 1]!r}"
                )
            if flag != "float_relative_tolerance":
                abs_tol = value
            if flag != "float_absolute_tolerance":
                rel_tol = value
            i += 1
        else:
            raise ValueError(f"unknown default validator flag {flag!r}")
        i += 1
    return ValidatorOptions(case_sensitive, space_change_sensitive, abs_tol, rel_tol)


def compare(answer: bytes, output: bytes, flags: Sequence[str]) -> tuple[bool, str]:
    """Judge `output` against the answer file's bytes; returns (accepted, feedback)."""
    options = parse_flags(flags)
    if answer == output:  # the usual accepted case: one memcmp instead of tokenizing 10 MB
        return True, ""
    if options.space_change_sensitive and not options.use_floats:
        # Whitespace exact and tokens compared as strings: only the (case-folded) bytes matter.
        if options.case_sensitive or answer.lower() != output.lower():
            return _compare_with_space(answer, output, options)
        return True, ""
    if options.space_change_sensitive:
        return _compare_with_space(answer, output, options)
    return _compare_tokens(answer, output, options)


def _compare_tokens(answer: bytes, output: bytes, options: ValidatorOptions) -> tuple[bool, str]:
    expected, got = answer.split(), output.split()
    if options.case_sensitive:
        keys_expected, keys_got = expected, got
    else:
        # bytes.lower() folds ASCII only, exactly like strcasecmp in the C validator.
        keys_expected, keys_got = answer.lower().split(), output.lower().split()
    for i in _differences(keys_expected, keys_got):
        problem = _token_problem(expected[i], got[i], options)
        if problem is not None:
            line, token = _line_and_token(output, _token_offset(output, i))
            return False, f"Wrong answer on line {line} token {token}: {problem}"
    if len(got) < len(expected):
        empty = " (the output is empty)" if not got else ""
        return False, f"Output ends early: expected {_show(expected[len(got)])}{empty}"
    if len(got) > len(expected):
        line, _ = _line_and_token(output, _token_offset(output, len(expected)))
        extra = _show(got[len(expected)])
        return False, f"Output is longer than the answer: unexpected {extra} on line {line}"
    return True, ""


def _compare_with_space(
    answer: bytes, output: bytes, options: ValidatorOptions
) -> tuple[bool, str]:
    # re.split with a group alternates token, whitespace, token, ...: always an odd count,
    # with an empty first/last token where the text starts/ends with whitespace.
    expected, got = _WS_SPLIT.split(answer), _WS_SPLIT.split(output)
    if options.case_sensitive:
        keys_expected, keys_got = expected, got
    else:
        keys_expected, keys_got = _WS_SPLIT.split(answer.lower()), _WS_SPLIT.split(output.lower())

    def line_at(i: int) -> tuple[int, int]:
        # Only computed for the reported difference: it is linear in the output size.
        return _line_and_token(output, sum(map(len, islice(got, i))))

    for i in _differences(keys_expected, keys_got):
        if i % 2 == 0 and expected[i] and got[i]:
            problem = _token_problem(expected[i], got[i], options)
            if problem is None:
                continue
            line, token = line_at(i)
            return False, f"Wrong answer on line {line} token {token}: {problem}"
        line, _ = line_at(i)
        if i == len(expected) - 1 and not expected[i]:
            extra = _show(got[i])
            return False, f"Output is longer than the answer: unexpected {extra} on line {line}"
        if i == len(got) - 1 and not got[i]:
            return False, f"Output ends early: expected {_show(expected[i])}"
        return False, (
            f"Wrong answer on line {line}: whitespace differs: expected "
            f"{_describe(expected, i)}, got {_describe(got, i)}"
        )
    if len(expected) == len(got):
        return True, ""
    common = min(len(expected), len(got))
    line, _ = _line_and_token(output, len(output))
    if len(got) < len(expected):
        rest = [t for t in expected[common + 1 :: 2] if t]
        if rest:
            return False, f"Output ends early: expected {_show(rest[0])}"
        return False, (
            f"Wrong answer on line {line}: whitespace differs: expected "
            f"{_describe(expected, common)}, got end of output"
        )
    rest = [t for t in got[common + 1 :: 2] if t]
    if rest:
        return False, f"Output is longer than the answer: unexpected {_show(rest[0])}"
    return False, (
        f"Wrong answer on line {line}: whitespace differs: expected end of output, "
        f"got {_describe(got, common)}"
    )


def _differences(a: list[bytes], b: list[bytes]) -> Iterator[int]:
    """Indices (below the shorter length) where the lists differ, found at C speed."""
    return compress(range(min(len(a), len(b))), map(operator.ne, a, b))


def _token_problem(expected: bytes, got: bytes, options: ValidatorOptions) -> str | None:
    """Why output token `got` does not match answer token `expected`, or None if it does."""
    if options.use_floats:
        want = _parse_float(expected)
        if want is not None:
            value = _parse_float(got)
            if value is None:
                return f"expected {_show(expected)}, got {_show(got)} (not a number)"
            diff = abs(want - value)
            if diff <= options.float_absolute_tolerance:
                return None
            if diff <= options.float_relative_tolerance * abs(want):
                return None
            return (
                f"expected {_show(expected)}, got {_show(got)} "
                f"(difference {diff:.6g} is over the {_tolerances(options)})"
            )
    same = expected == got if options.case_sensitive else expected.lower() == got.lower()
    return None if same else f"expected {_show(expected)}, got {_show(got)}"


def _parse_float(token: bytes) -> float | None:
    """The token's value if C's sscanf("%lf") reads all of it as a finite number."""
    if b"_" in token:  # Python's float() allows 1_000; C does not
        return None
    try:
        value = float(token)
    except ValueError:
        if _HEX_FLOAT.fullmatch(token) is None:
            return None
        try:
            value = float.fromhex(token.decode("ascii"))
        except (ValueError, OverflowError):  # overflow: strtod gives inf, which is no float
            return None
    # Python's float() also takes "inf", "nan", "infinity" and leading/trailing space.
    if not math.isfinite(value) or token != token.strip():
        return None
    return value


def _tolerances(options: ValidatorOptions) -> str:
    parts = []
    if options.float_absolute_tolerance >= 0:
        parts.append(f"absolute tolerance {options.float_absolute_tolerance:g}")
    if options.float_relative_tolerance >= 0:
        parts.append(f"relative tolerance {options.float_relative_tolerance:g}")
    return " and ".join(parts)


def _token_offset(data: bytes, index: int) -> int:
    """Byte offset of the index-th whitespace-separated token (len(data) if there is none)."""
    match = next(islice(_TOKEN.finditer(data), index, None), None)
    return match.start() if match else len(data)


def _line_and_token(data: bytes, offset: int) -> tuple[int, int]:
    """1-based line of byte `offset`, and the 1-based number of the token there on its line."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    return data.count(b"\n", 0, offset) + 1, len(data[line_start:offset].split()) + 1


def _show(token: bytes) -> str:
    text = token.decode("utf-8", "replace")
    if len(text) > _SHOWN_TOKEN:
        text = text[:_SHOWN_TOKEN] + "..."
    text = "".join(c if c.isprintable() else "?" for c in text)
    return f"'{text}'"


def _describe(parts: list[bytes], i: int) -> str:
    """What stands at index i of a token/whitespace list, for feedback."""
    if i % 2 == 0 and parts[i]:
        return _show(parts[i])
    if i % 2 == 0:  # an empty token: whitespace follows, or the text ends here
        return _show_space(parts[i + 1]) if i + 1 < len(parts) else "the end"
    return _show_space(parts[i])


def _show_space(space: bytes) -> str:
    text = space[:20].decode("ascii").encode("unicode_escape").decode("ascii")
    return f"'{text}{'...' if len(space) > 20 else ''}'"
