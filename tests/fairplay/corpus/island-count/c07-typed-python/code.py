import sys


def main() -> None:
    data = sys.stdin.read().split()
    h, w = int(data[0]), int(data[1])
    width = w + 2
    cells = [0] * (width * (h + 2))
    for i in range(h):
        row = data[2 + i]
        for j in range(w):
            if row[j] == "#":
                cells[(i + 1) * width + j + 1] = 1
    count = 0
    largest = 0
    for start in range(len(cells)):
        if cells[start] == 0:
            continue
        count += 1
        cells[start] = 0
        todo = [start]
        size = 0
        while todo:
            cur = todo.pop()
            size += 1
            for nxt in (cur - width, cur + width, cur - 1, cur + 1):
                if cells[nxt]:
                    cells[nxt] = 0
                    todo.append(nxt)
        largest = max(largest, size)
    print(count, largest)


main()
