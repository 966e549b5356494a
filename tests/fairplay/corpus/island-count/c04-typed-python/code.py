import sys


def main() -> None:
    data = sys.stdin.read().split()
    n_rows, n_cols = int(data[0]), int(data[1])
    grid = data[2:2 + n_rows]
    up = list(range(n_rows * n_cols))

    def find(x):
        while up[x] != x:
            up[x] = up[up[x]]
            x = up[x]
        return x

    for i in range(n_rows):
        for j in range(n_cols):
            if grid[i][j] != "#":
                continue
            here = i * n_cols + j
            if j + 1 < n_cols and grid[i][j + 1] == "#":
                up[find(here)] = find(here + 1)
            if i + 1 < n_rows and grid[i + 1][j] == "#":
                up[find(here)] = find(here + n_cols)
    sizes = {}
    for i in range(n_rows):
        for j in range(n_cols):
            if grid[i][j] == "#":
                top = find(i * n_cols + j)
                sizes[top] = sizes.get(top, 0) + 1
    print(len(sizes), max(sizes.values(), default=0))


main()
