import sys


def main():
    s = sys.stdin.buffer.readline().rstrip(b"\r\n")
    partner = [0] * 128
    for o, c in (b"()", b"[]", b"{}", b"<>"):
        partner[c] = o
    stack = []
    push = stack.append
    pop = stack.pop
    depth = 0
    for i, c in enumerate(s):
        p = partner[c]
        if p == 0:  # an opening bracket
            push(c)
            if len(stack) > depth:
                depth = len(stack)
        elif not stack or pop() != p:
            print("NO", i + 1)
            return
    if stack:
        print("NO", len(s) + 1)
    else:
        print("YES", depth)


main()
