import sys


def main() -> None:
    data = sys.stdin.read().split()
    # Solve the problem here and print the answer.
    total = int(data[0]) + int(data[1])
    print(total)


main()
