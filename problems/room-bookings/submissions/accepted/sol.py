import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    vals = list(map(int, data[1:1 + 2 * n]))
    bookings = sorted(zip(vals[0::2], vals[1::2]))
    starts, ends = [], []
    for s, e in bookings:
        # A booking that starts before (or exactly when) the current period ends
        # extends it; otherwise a new period begins.
        if ends and s <= ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    out = [str(len(starts))]
    out += [f"{s} {e}" for s, e in zip(starts, ends)]
    sys.stdout.write("\n".join(out) + "\n")


main()
