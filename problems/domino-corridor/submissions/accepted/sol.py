import sys

MOD = 10**9 + 7


def fib_pair(n):
    """(F(n), F(n + 1)) modulo MOD, by fast doubling:
    F(2k) = F(k) * (2 F(k+1) - F(k)),  F(2k+1) = F(k)^2 + F(k+1)^2."""
    a, b = 0, 1  # F(0), F(1)
    for bit in bin(n)[2:]:
        c = a * (2 * b - a) % MOD
        d = (a * a + b * b) % MOD
        if bit == "1":
            a, b = d, (c + d) % MOD
        else:
            a, b = c, d
    return a, b


def main():
    data = sys.stdin.read().split()
    t = int(data[0])
    # A 2 x n corridor: the last column is one vertical domino (n - 1 left) or the
    # last two columns hold two horizontal ones (n - 2 left), so the count is F(n + 1).
    out = [fib_pair(int(x))[1] for x in data[1:1 + t]]
    print("\n".join(map(str, out)))


main()
