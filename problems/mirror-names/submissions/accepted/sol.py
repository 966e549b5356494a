import sys


def main():
    data = sys.stdin.buffer.read().split()
    t = int(data[0])
    out = []
    for w in data[1:1 + t]:
        h = len(w) // 2
        # Compare the first half with the reversed second half.
        out.append(sum(a != b for a, b in zip(w[:h], w[::-1][:h])))
    sys.stdout.write("\n".join(map(str, out)) + "\n")


main()
