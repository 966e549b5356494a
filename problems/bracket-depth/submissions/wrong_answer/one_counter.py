# Wrong: a single counter ignores the bracket types, so "(<)>" is accepted.
import sys


def main():
    s = sys.stdin.buffer.readline().strip()
    depth = best = 0
    for i, c in enumerate(s):
        if c in b"([{<":
            depth += 1
            best = max(best, depth)
        else:
            depth -= 1
            if depth < 0:
                print("NO", i + 1)
                return
    if depth:
        print("NO", len(s) + 1)
    else:
        print("YES", best)


main()
