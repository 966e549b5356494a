import sys


def main() -> None:
    vals = sys.stdin.read().split()
    count = int(vals[0])
    stacks = []
    for v in vals[1:count + 1]:
        x = int(v)
        left, right = 0, len(stacks)
        while left < right:
            m = (left + right) // 2
            if stacks[m] < x:
                left = m + 1
            else:
                right = m
        if left == len(stacks):
            stacks.append(x)
        else:
            stacks[left] = x
    print(len(stacks))


main()
