"""Combined power: read two integers A and B and print their sum.

Python integers have arbitrary precision, so no overflow handling is required.
"""
import sys


def combined_power(a: int, b: int) -> int:
    """Return the combined power level of two bots."""
    return a + b


def main() -> None:
    """Read the input, compute the answer and print it."""
    a_str, b_str = sys.stdin.readline().split()
    print(combined_power(int(a_str), int(b_str)))


if __name__ == "__main__":
    main()
