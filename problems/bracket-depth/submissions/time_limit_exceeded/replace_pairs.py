# Too slow: the stack is an immutable-style list that is copied on every push
# and pop (stack + [c], stack[:-1]), so deep nesting makes it quadratic.
import sys


def main():
    s = sys.stdin.buffer.readline().strip().decode()
    partner = {")": "(", "]": "[", "}": "{", ">": "<"}
    stack = []
    depth = 0
    for i, c in enumerate(s):
        if c in "([{<":
            stack = stack + [c]
            depth = max(depth, len(stack))
        else:
            if not stack or stack[-1] != partner[c]:
                print("NO", i + 1)
                return
            stack = stack[:-1]
    print("NO", len(s) + 1) if stack else print("YES", depth)


main()
