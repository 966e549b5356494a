# Wrong: pairs position i with position -i instead of -1 - i (an off-by-one when
# translating "the i-th letter from the end"), so s[0] is compared with itself.
import sys


def main():
    data = sys.stdin.buffer.read().split()
    t = int(data[0])
    out = []
    for w in data[1:1 + t]:
        out.append(sum(1 for i in range(len(w) // 2) if w[i] != w[-i]))
    print("\n".join(map(str, out)))


main()
