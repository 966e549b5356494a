# Too slow: keeps the clubs in a plain list and searches it for every word, which
# is quadratic when most words found a club of their own.
import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    keys = []
    sizes = []
    for w in data[1:1 + n]:
        key = "".join(sorted(w))
        if key in keys:
            sizes[keys.index(key)] += 1
        else:
            keys.append(key)
            sizes.append(1)
    print(len(keys), max(sizes))


main()
