import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    skills = list(map(int, data[1:1 + n]))
    total = sum(skills)
    # Bit r of `sums` is set when some group of players has total skill r.
    sums = 1
    for s in skills:
        sums |= sums << s
    half = total // 2
    best = (sums & ((1 << (half + 1)) - 1)).bit_length() - 1  # largest sum <= half
    print(total - 2 * best)


main()
