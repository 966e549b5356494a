from collections import deque
import sys
input = sys.stdin.readline

n, m = map(int, input().split())
board = [input().rstrip() for _ in range(n)]
vis = [[0]*m for _ in range(n)]
for i in range(n):
    if 'S' in board[i]:
        si, sj = i, board[i].index('S')
dq = deque([(si, sj, 0)])
vis[si][sj] = 1
res = -1
while dq:
    x, y, d = dq.popleft()
    if board[x][y] == 'E':
        res = d
        break
    for ax, ay in [(0,1),(1,0),(0,-1),(-1,0)]:
        nx, ny = x+ax, y+ay
        if 0<=nx<n and 0<=ny<m and not vis[nx][ny] and board[nx][ny] != '#':
            vis[nx][ny] = 1
            dq.append((nx, ny, d+1))
print(res)
