# Wrong: the key is the set of letters, so "aab" and "abb" land in the same club
# although they are not anagrams of each other.
import sys


def main():
    data = sys.stdin.read().split()
    n = int(data[0])
    clubs = {}
    for w in data[1:1 + n]:
        key = "".join(sorted(set(w)))
        clubs[key] = clubs.get(key, 0) + 1
    print(len(clubs), max(clubs.values()))


main()
