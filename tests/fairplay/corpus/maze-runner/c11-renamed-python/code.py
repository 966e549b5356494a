import sys


def main():
    tok = sys.stdin.buffer.read().split()
    h, w0 = int(tok[0]), int(tok[1])
    w = w0 + 1
    board = b"#" * w + b"".join(line + b"#" for line in tok[2:2 + h]) + b"#" * w
    cell = bytearray(board.translate(bytes.maketrans(b".#SE", b"\x01\x00\x01\x02")))
    s = board.index(b"S")
    cell[s] = 0
    todo = [s]
    steps = 0
    while todo:
        steps += 1
        later = []
        add = later.append
        for a in todo:
            for b in (a - 1, a + 1, a - w, a + w):
                kind = cell[b]
                if kind:
                    if kind == 2:
                        print(steps)
                        return
                    cell[b] = 0
                    add(b)
        todo = later
    print(-1)


main()
