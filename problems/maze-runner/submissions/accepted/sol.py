import sys


def main():
    data = sys.stdin.buffer.read().split()
    r, c = int(data[0]), int(data[1])
    w = c + 1  # one wall column at the end of every row also guards the next row's start
    flat = b"#" * w + b"".join(row + b"#" for row in data[2:2 + r]) + b"#" * w
    # 0 = wall or visited, 1 = open, 2 = exit
    g = bytearray(flat.translate(bytes.maketrans(b".#SE", b"\x01\x00\x01\x02")))
    start = flat.index(b"S")
    g[start] = 0
    frontier = [start]
    dist = 0
    while frontier:
        dist += 1
        nxt = []
        push = nxt.append
        for p in frontier:
            for q in (p - 1, p + 1, p - w, p + w):
                v = g[q]
                if v:
                    if v == 2:
                        print(dist)
                        return
                    g[q] = 0
                    push(q)
        frontier = nxt
    print(-1)


main()
