import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    clubs = {}
    for w in data[1:1 + n]:
        # Anagrams have the same letters in sorted order.
        key = bytes(sorted(w))
        clubs[key] = clubs.get(key, 0) + 1
    print(len(clubs), max(clubs.values()))


main()
