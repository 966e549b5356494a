# Too slow: every "richest" scans all n balances, O(n) per query.
import sys


def main():
    lines = sys.stdin.buffer.read().split(b"\n")
    n, q = map(int, lines[0].split())
    bal = [-1] + [0] * n  # index 0 is never the richest
    out = []
    for line in lines[1:q + 1]:
        c = line.split()
        if c[0] == b"richest":
            best = max(bal)
            out.append(f"{bal.index(best)} {best}")
        elif c[0] == b"deposit":
            a = int(c[1])
            bal[a] += int(c[2])
            out.append(str(bal[a]))
        elif c[0] == b"withdraw":
            a, x = int(c[1]), int(c[2])
            if bal[a] >= x:
                bal[a] -= x
                out.append(str(bal[a]))
            else:
                out.append("DECLINED")
        else:
            a, b, x = int(c[1]), int(c[2]), int(c[3])
            if bal[a] >= x:
                bal[a] -= x
                bal[b] += x
                out.append("OK")
            else:
                out.append("DECLINED")
    print("\n".join(out))


main()
