# Wrong: greedy. Takes the players from the strongest down and always puts the
# next one into the currently weaker team. Fails on 3 3 2 2 2 (answer 0, greedy 2).
import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    a = b = 0
    for s in sorted(map(int, data[1:1 + n]), reverse=True):
        if a <= b:
            a += s
        else:
            b += s
    print(abs(a - b))


main()
