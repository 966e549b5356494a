import sys


def main() -> None:
    data = sys.stdin.buffer.read().split()
    r, c = int(data[0]), int(data[1])
    w = c + 2
    cells = bytearray(b"#" * w)
    for row in data[2:2 + r]:
        cells += b"#" + row + b"#"
    cells += b"#" * w
    start = cells.index(b"S")
    seen = bytearray(len(cells))
    seen[start] = 1
    layer = [start]
    steps = 0
    while layer:
        new_layer = []
        for p in layer:
            if cells[p] == ord("E"):
                print(steps)
                return
            for q in (p + 1, p - 1, p + w, p - w):
                if not seen[q] and cells[q] != ord("#"):
                    seen[q] = 1
                    new_layer.append(q)
        layer = new_layer
        steps += 1
    print(-1)


main()
