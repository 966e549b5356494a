import sys


def main():
    data = sys.stdin.buffer.read().split()
    r, c = int(data[0]), int(data[1])
    w = c + 2
    # Flat grid with a border of water; 1 = unvisited land.
    g = bytearray(w * (r + 2))
    for i in range(r):
        row = data[2 + i].replace(b".", b"\x00").replace(b"#", b"\x01")
        g[(i + 1) * w + 1:(i + 1) * w + 1 + c] = row
    islands = 0
    largest = 0
    find = g.find
    start = find(1)
    while start != -1:
        islands += 1
        g[start] = 0
        stack = [start]
        area = 0
        pop = stack.pop
        push = stack.append
        while stack:
            v = pop()
            area += 1
            for u in (v - 1, v + 1, v - w, v + w):
                if g[u]:
                    g[u] = 0
                    push(u)
        if area > largest:
            largest = area
        start = find(1, start)
    print(islands, largest)


main()
