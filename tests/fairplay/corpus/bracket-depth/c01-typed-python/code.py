import sys


def main() -> None:
    s = sys.stdin.readline().strip()
    closing = {")": "(", "]": "[", "}": "{", ">": "<"}
    open_now = []
    deepest = 0
    for pos, ch in enumerate(s, start=1):
        if ch in closing:
            if not open_now or open_now[-1] != closing[ch]:
                print("NO", pos)
                return
            open_now.pop()
        else:
            open_now.append(ch)
            deepest = max(deepest, len(open_now))
    if open_now:
        print("NO", len(s) + 1)
    else:
        print("YES", deepest)


main()
