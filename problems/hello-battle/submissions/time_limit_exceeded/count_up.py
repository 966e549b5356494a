# Adds B to A one unit at a time: fine for tiny inputs, hopeless for 10^18.
import sys


def main() -> None:
    a, b = map(int, sys.stdin.buffer.read().split())
    step = 1 if b > 0 else -1
    for _ in range(abs(b)):
        a += step
    print(a)


main()
