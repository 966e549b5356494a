import sys


def main() -> None:
    s = sys.stdin.buffer.readline().strip()
    match = [0] * 128
    match[ord(")")] = ord("(")
    match[ord("]")] = ord("[")
    match[ord("}")] = ord("{")
    match[ord(">")] = ord("<")
    stack = []
    push, pop = stack.append, stack.pop
    depth = 0
    for i, c in enumerate(s):
        want = match[c]
        if want:
            if not stack or pop() != want:
                print("NO", i + 1)
                return
        else:
            push(c)
            depth = max(depth, len(stack))
    print("YES", depth) if not stack else print("NO", len(s) + 1)


main()
