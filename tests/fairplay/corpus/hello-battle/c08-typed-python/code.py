import sys


def main() -> None:
    data = sys.stdin.read().split()
    print(sum(int(tok) for tok in data[:2]))


main()
