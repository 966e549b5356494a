import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    n, t = int(data[0]), int(data[1])
    first = {}
    for j in range(n):
        x = int(data[2 + j])
        i = first.get(t - x)
        if i is not None:
            print(i + 1, j + 1)
            return
        if x not in first:
            first[x] = j
    print(-1)


main()
