# Expects every a_i on its own line; int() of the whole second line raises ValueError.
def main() -> None:
    n, t = map(int, input().split())
    a = [int(input()) for _ in range(n)]
    first = {}
    for j, x in enumerate(a):
        if t - x in first:
            print(first[t - x] + 1, j + 1)
            return
        first.setdefault(x, j)
    print(-1)


main()
