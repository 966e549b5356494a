import sys
sys.setrecursionlimit(1 << 20)

R, C = map(int, sys.stdin.readline().split())
G = [list(sys.stdin.readline().strip()) for _ in range(R)]


def dfs(i, j):
    if i < 0 or j < 0 or i >= R or j >= C or G[i][j] != '#':
        return 0
    G[i][j] = '.'
    return 1 + dfs(i+1, j) + dfs(i-1, j) + dfs(i, j+1) + dfs(i, j-1)


cnt = 0
mx = 0
for i in range(R):
    for j in range(C):
        if G[i][j] == '#':
            cnt += 1
            mx = max(mx, dfs(i, j))
print(cnt, mx)
