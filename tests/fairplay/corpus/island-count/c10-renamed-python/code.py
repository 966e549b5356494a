import sys
from collections import deque


def main() -> None:
    tokens = sys.stdin.read().split()
    h, w = int(tokens[0]), int(tokens[1])
    g = [[x == "#" for x in tokens[2 + k]] for k in range(h)]
    total = 0
    biggest = 0
    for y0 in range(h):
        for x0 in range(w):
            if not g[y0][x0]:
                continue
            total += 1
            g[y0][x0] = False
            dq = deque([(y0, x0)])
            size = 0
            while dq:
                y, x = dq.popleft()
                size += 1
                # look at the four neighbours
                if y > 0 and g[y - 1][x]:
                    g[y - 1][x] = False; dq.append((y - 1, x))
                if y + 1 < h and g[y + 1][x]:
                    g[y + 1][x] = False; dq.append((y + 1, x))
                if x > 0 and g[y][x - 1]:
                    g[y][x - 1] = False; dq.append((y, x - 1))
                if x + 1 < w and g[y][x + 1]:
                    g[y][x + 1] = False; dq.append((y, x + 1))
            biggest = max(biggest, size)
    print(total, biggest)


main()
