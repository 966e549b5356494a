import sys


def main() -> None:
    a, b = map(int, sys.stdin.buffer.read().split())
    print(a + b)


main()
