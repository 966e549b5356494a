"""problemtools' default output validator, reimplemented as compare()."""

from __future__ import annotations

import functools
import time

import pytest

from codebattle.judge.validators.default import ValidatorOptions, compare, parse_flags

AC = (True, "")


def test_identical_output_is_accepted() -> None:
    assert compare(b"1 2\n3\n", b"1 2\n3\n", []) == AC


def test_whitespace_is_not_significant_by_default() -> None:
    assert compare(b"1 2\n3\n", b"  1\t2 3", []) == AC
    assert compare(b"1\r\n2\r\n", b"1\n2\n", []) == AC
    assert compare(b"", b" \n\n", []) == AC


def test_wrong_token_names_line_and_token_of_the_output() -> None:
    assert compare(b"1 2\n3 5\n", b"1 2\n3 6\n", []) == (
        False,
        "Wrong answer on line 2 token 2: expected '5', got '6'",
    )
    # The position is the output's, not the answer's.
    assert compare(b"1 2 3 5\n", b"1\n2\n3 6\n", []) == (
        False,
        "Wrong answer on line 3 token 2: expected '5', got '6'",
    )


def test_output_ends_early() -> None:
    assert compare(b"5 6 7\n", b"5 6\n", []) == (False, "Output ends early: expected '7'")
    assert compare(b"7\n", b"", []) == (
        False,
        "Output ends early: expected '7' (the output is empty)",
    )
    assert compare(b"7\n", b"\n \n", []) == (
        False,
        "Output ends early: expected '7' (the output is empty)",
    )


def test_output_longer_than_answer() -> None:
    assert compare(b"1\n", b"1\n2\n", []) == (
        False,
        "Output is longer than the answer: unexpected '2' on line 2",
    )
    assert compare(b"", b"x", []) == (
        False,
        "Output is longer than the answer: unexpected 'x' on line 1",
    )


def test_case_insensitive_by_default() -> None:
    assert compare(b"Yes\nNO\n", b"yes\nno\n", []) == AC


def test_case_sensitive_flag() -> None:
    assert compare(b"Yes\n", b"yes\n", ["case_sensitive"]) == (
        False,
        "Wrong answer on line 1 token 1: expected 'Yes', got 'yes'",
    )
    assert compare(b"Yes\n", b"Yes\n", ["case_sensitive"]) == AC


def test_case_folding_is_ascii_only_like_strcasecmp() -> None:
    assert compare("É\n".encode(), "é\n".encode(), []) == (
        False,
        "Wrong answer on line 1 token 1: expected 'É', got 'é'",
    )


def test_space_change_sensitive_flag() -> None:
    flags = ["space_change_sensitive"]
    assert compare(b"1 2\n", b"1 2\n", flags) == AC
    assert compare(b"1 2\n", b"1  2\n", flags) == (
        False,
        "Wrong answer on line 1: whitespace differs: expected ' ', got '  '",
    )
    assert compare(b"1 2\n", b"1 2", flags) == (
        False,
        "Wrong answer on line 1: whitespace differs: expected '\\n', got end of output",
    )
    assert compare(b"1 2\n", b"1\n2\n", flags) == (
        False,
        "Wrong answer on line 1: whitespace differs: expected ' ', got '\\n'",
    )
    assert compare(b"1 2\n", b" 1 2\n", flags) == (
        False,
        "Wrong answer on line 1: whitespace differs: expected '1', got ' '",
    )
    assert compare(b"1 2\n", b"1 2\n\n", flags) == (
        False,
        "Wrong answer on line 1: whitespace differs: expected '\\n', got '\\n\\n'",
    )
    assert compare(b"1 2\n", b"1 3\n", flags) == (
        False,
        "Wrong answer on line 1 token 2: expected '2', got '3'",
    )
    assert compare(b"1 2\n", b"1 2\n3\n", flags) == (
        False,
        "Output is longer than the answer: unexpected '3' on line 2",
    )
    assert compare(b"1 2\n3\n", b"1 2\n", flags) == (False, "Output ends early: expected '3'")
    # Case is still ignored unless case_sensitive is given too.
    assert compare(b"A b\n", b"a B\n", flags) == AC
    assert compare(b"A b\n", b"a B\n", [*flags, "case_sensitive"])[0] is False


def test_float_absolute_tolerance() -> None:
    flags = ["float_absolute_tolerance", "0.01"]
    assert compare(b"1.000\n", b"1.009\n", flags) == AC
    assert compare(b"1000\n", b"1000.009", flags) == AC
    ok, message = compare(b"1000\n", b"1000.02\n", flags)
    assert not ok
    assert message == (
        "Wrong answer on line 1 token 1: expected '1000', got '1000.02' "
        "(difference 0.02 is over the absolute tolerance 0.01)"
    )


def test_float_relative_tolerance() -> None:
    flags = ["float_relative_tolerance", "0.01"]
    assert compare(b"1000\n", b"1009.9\n", flags) == AC
    assert compare(b"1000\n", b"1010.1\n", flags)[0] is False
    # Relative to the answer's value, so near zero nothing but exact passes.
    assert compare(b"0\n", b"0.0000001\n", flags)[0] is False
    assert compare(b"0\n", b"0.0\n", flags) == AC


def test_float_tolerance_sets_both() -> None:
    assert parse_flags(["float_tolerance", "1e-6"]) == ValidatorOptions(
        float_absolute_tolerance=1e-6, float_relative_tolerance=1e-6
    )
    flags = ["float_tolerance", "1e-6"]
    assert compare(b"0\n", b"0.0000009\n", flags) == AC  # absolute
    assert compare(b"1e9\n", b"1000000900\n", flags) == AC  # relative
    ok, message = compare(b"1\n", b"1.1\n", flags)
    assert message == (
        "Wrong answer on line 1 token 1: expected '1', got '1.1' (difference 0.1 is over "
        "the absolute tolerance 1e-06 and relative tolerance 1e-06)"
    )


def test_float_tokens_need_a_number_but_other_tokens_compare_as_strings() -> None:
    flags = ["float_tolerance", "1e-3"]
    assert compare(b"Case 1: 0.5\n", b"case 1: 0.5001\n", flags) == AC
    assert compare(b"0.5\n", b"half\n", flags) == (
        False,
        "Wrong answer on line 1 token 1: expected '0.5', got 'half' (not a number)",
    )
    assert compare(b"abc\n", b"abd\n", flags) == (
        False,
        "Wrong answer on line 1 token 1: expected 'abc', got 'abd'",
    )


def test_without_tolerance_numbers_compare_as_strings() -> None:
    assert compare(b"1.0\n", b"1.00\n", []) == (
        False,
        "Wrong answer on line 1 token 1: expected '1.0', got '1.00'",
    )
    assert compare(b"1E5\n", b"1e5\n", []) == AC  # case-insensitive string compare


def test_numbers_are_read_like_strtod() -> None:
    flags = ["float_absolute_tolerance", "0"]
    assert compare(b"8\n", b"0x1p3\n", flags) == AC  # hexadecimal float
    assert compare(b"0.5\n", b".5\n", flags) == AC
    assert compare(b"3\n", b"3.\n", flags) == AC
    assert compare(b"1000\n", b"1_000\n", flags)[1].endswith("(not a number)")
    assert compare(b"1\n", b"1e\n", flags)[1].endswith("(not a number)")


def test_nan_and_inf_do_not_crash_and_compare_as_strings() -> None:
    flags = ["float_tolerance", "1e-6"]
    assert compare(b"nan\n", b"NaN\n", flags) == AC
    assert compare(b"inf\n", b"INF\n", flags) == AC
    assert compare(b"inf\n", b"1e999\n", flags) == (
        False,
        "Wrong answer on line 1 token 1: expected 'inf', got '1e999'",
    )
    assert compare(b"1.5\n", b"nan\n", flags)[1].endswith("(not a number)")
    assert compare(b"1.5\n", b"inf\n", flags)[1].endswith("(not a number)")
    assert compare(b"1e308\n", b"-1e308\n", flags)[0] is False  # the difference overflows
    assert compare(b"nan\n", b"nan\n", []) == AC


def test_non_utf8_output_does_not_crash() -> None:
    ok, message = compare(b"x\n", b"\xff\xfe\n", [])
    assert not ok
    assert message == "Wrong answer on line 1 token 1: expected 'x', got '\ufffd\ufffd'"
    assert compare(b"\xff\n", b"\xff\n", ["case_sensitive"]) == AC
    assert compare(b"1\n", b"\x80", ["float_tolerance", "1"])[1].endswith("(not a number)")
    assert compare(b"1\n", b"1\x00\n", ["space_change_sensitive"])[0] is False


def test_long_tokens_are_cut_in_feedback() -> None:
    ok, message = compare(b"a\n", b"b" * 1000 + b"\n", [])
    assert not ok
    assert message == f"Wrong answer on line 1 token 1: expected 'a', got '{'b' * 60}...'"


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        (["float_tolerance", "abc"], "float_tolerance needs a finite number, got 'abc'"),
        (["float_relative_tolerance"], "float_relative_tolerance needs a number after it"),
        (["float_absolute_tolerance", "inf"], "needs a finite number, got 'inf'"),
        (["case_insensitive"], "unknown default validator flag 'case_insensitive'"),
    ],
)
def test_bad_flags_raise_value_error(flags: list[str], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        compare(b"1", b"1", flags)


def test_flags_given_as_one_string() -> None:
    assert parse_flags("case_sensitive  float_tolerance 0.5") == ValidatorOptions(
        case_sensitive=True, float_absolute_tolerance=0.5, float_relative_tolerance=0.5
    )


@functools.cache
def _big_answer() -> bytes:
    rows = [
        " ".join(str((r * 7919 + c * 104729) % 1000003) for c in range(10)) for r in range(150_000)
    ]
    return ("\n".join(rows) + "\n").encode()


@pytest.mark.parametrize(
    "flags",
    [[], ["case_sensitive"], ["space_change_sensitive"], ["float_tolerance", "1e-9"]],
)
def test_ten_megabytes_with_a_late_mistake(flags: list[str]) -> None:
    answer = _big_answer()
    assert len(answer) > 9_000_000
    lines = answer.split(b"\n")
    lines[149_999] = lines[149_999].rsplit(b" ", 1)[0] + b" 42"  # the last token
    output = b"\n".join(lines)
    start = time.perf_counter()
    ok, message = compare(answer, output, flags)
    elapsed = time.perf_counter() - start
    last = answer.split()[-1].decode()
    assert not ok
    assert message.startswith(f"Wrong answer on line 150000 token 10: expected '{last}', got '42'")
    assert elapsed < 5.0  # well under a second on a laptop; generous for slow CI machines


def test_ten_megabytes_reformatted_is_accepted_quickly() -> None:
    answer = _big_answer()
    output = answer.replace(b"\n", b" \r\n").upper()
    start = time.perf_counter()
    assert compare(answer, output, []) == AC
    assert compare(answer, output, ["float_tolerance", "1e-6"]) == AC
    assert time.perf_counter() - start < 5.0


def test_many_floats_within_tolerance() -> None:
    values = [i / 7 for i in range(300_000)]
    answer = "\n".join(f"{v:.9f}" for v in values).encode()
    output = "\n".join(f"{v + 1e-8:.9f}" for v in values).encode()
    start = time.perf_counter()
    assert compare(answer, output, ["float_absolute_tolerance", "1e-7"]) == AC
    assert compare(answer, output, ["float_absolute_tolerance", "1e-9"])[0] is False
    assert time.perf_counter() - start < 5.0
