import sys


def main() -> None:
    text = sys.stdin.readline().strip()
    opener_of = {">": "<", "}": "{", "]": "[", ")": "("}
    stack = []
    best = 0
    for i, c in enumerate(text, start=1):
        if c in opener_of:
            if not stack or stack[-1] != opener_of[c]:
                print("NO", i)
                return
            stack.pop()
        else:
            stack.append(c)
            best = max(best, len(stack))
    if stack:
        print("NO", len(text) + 1)
    else:
        print("YES", best)


main()
