import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(in.readLine());
        int rows = Integer.parseInt(st.nextToken());
        int cols = Integer.parseInt(st.nextToken());
        char[][] maze = new char[rows][];
        int start = 0;
        for (int r = 0; r < rows; r++) {
            maze[r] = in.readLine().toCharArray();
            for (int c = 0; c < cols; c++) if (maze[r][c] == 'S') start = r * cols + c;
        }
        boolean[] seen = new boolean[rows * cols];
        int[] cur = new int[rows * cols], next = new int[rows * cols];
        int curSize = 1, steps = 0;
        cur[0] = start;
        seen[start] = true;
        while (curSize > 0) {
            int nextSize = 0;
            for (int i = 0; i < curSize; i++) {
                int r = cur[i] / cols, c = cur[i] % cols;
                if (maze[r][c] == 'E') {
                    System.out.println(steps);
                    return;
                }
                int[][] around = {{r - 1, c}, {r + 1, c}, {r, c - 1}, {r, c + 1}};
                for (int[] p : around) {
                    if (p[0] < 0 || p[1] < 0 || p[0] >= rows || p[1] >= cols) continue;
                    int id = p[0] * cols + p[1];
                    if (!seen[id] && maze[p[0]][p[1]] != '#') {
                        seen[id] = true;
                        next[nextSize++] = id;
                    }
                }
            }
            int[] swap = cur;
            cur = next;
            next = swap;
            curSize = nextSize;
            steps++;
        }
        System.out.println(-1);
    }
}
