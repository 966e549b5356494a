import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer head = new StringTokenizer(reader.readLine());
        int h = Integer.parseInt(head.nextToken());
        int w = Integer.parseInt(head.nextToken());
        char[][] grid = new char[h][];
        for (int r = 0; r < h; r++) grid[r] = reader.readLine().trim().toCharArray();
        boolean[][] visited = new boolean[h][w];
        int[] moveY = {1, -1, 0, 0};
        int[] moveX = {0, 0, 1, -1};
        int count = 0, best = 0;
        ArrayDeque<int[]> dq = new ArrayDeque<>();
        for (int r = 0; r < h; r++) {
            for (int c = 0; c < w; c++) {
                if (grid[r][c] != '#' || visited[r][c]) continue;
                count++;
                visited[r][c] = true;
                dq.add(new int[] {r, c});
                int size = 0;
                while (!dq.isEmpty()) {
                    int[] p = dq.poll();
                    size++;
                    for (int k = 0; k < 4; k++) {
                        int y = p[0] + moveY[k], x = p[1] + moveX[k];
                        if (y < 0 || x < 0 || y >= h || x >= w) continue;
                        if (grid[y][x] == '#' && !visited[y][x]) {
                            visited[y][x] = true;
                            dq.add(new int[] {y, x});
                        }
                    }
                }
                best = Math.max(best, size);
            }
        }
        System.out.println(count + " " + best);
    }
}
