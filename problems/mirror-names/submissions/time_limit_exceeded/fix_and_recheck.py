# Too slow: repairs the first mismatch it finds and then re-checks the whole word
# by comparing it with its reversal, so a long word with many mismatches is
# quadratic.
import sys


def main():
    data = sys.stdin.read().split()
    t = int(data[0])
    out = []
    for w in data[1:1 + t]:
        w = list(w)
        changes = 0
        while w != w[::-1]:
            i = next(i for i in range(len(w)) if w[i] != w[-1 - i])
            w[-1 - i] = w[i]
            changes += 1
        out.append(changes)
    print("\n".join(map(str, out)))


main()
