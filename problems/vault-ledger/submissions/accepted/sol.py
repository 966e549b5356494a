import heapq
import sys


def main():
    lines = sys.stdin.buffer.read().split(b"\n")
    n, q = map(int, lines[0].split())
    bal = [0] * (n + 1)
    # Max-heap of (-balance, account). Entries go stale when a balance changes; a
    # stale entry is dropped when it reaches the top.
    heap = [(0, a) for a in range(1, n + 1)]
    push = heapq.heappush
    out = []
    for line in lines[1:q + 1]:
        c = line.split()
        op = c[0]
        if op == b"deposit":
            a = int(c[1])
            bal[a] += int(c[2])
            push(heap, (-bal[a], a))
            out.append(bal[a])
        elif op == b"withdraw":
            a, x = int(c[1]), int(c[2])
            if bal[a] >= x:
                bal[a] -= x
                push(heap, (-bal[a], a))
                out.append(bal[a])
            else:
                out.append("DECLINED")
        elif op == b"transfer":
            a, b, x = int(c[1]), int(c[2]), int(c[3])
            if bal[a] >= x:
                bal[a] -= x
                bal[b] += x
                push(heap, (-bal[a], a))
                push(heap, (-bal[b], b))
                out.append("OK")
            else:
                out.append("DECLINED")
        else:
            while -heap[0][0] != bal[heap[0][1]]:
                heapq.heappop(heap)
            out.append(f"{heap[0][1]} {-heap[0][0]}")
    sys.stdout.write("\n".join(map(str, out)) + "\n")


main()
