import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer first = new StringTokenizer(in.readLine());
        int rows = Integer.parseInt(first.nextToken());
        int cols = Integer.parseInt(first.nextToken());
        char[][] map = new char[rows][];
        for (int i = 0; i < rows; i++) map[i] = in.readLine().trim().toCharArray();
        boolean[][] seen = new boolean[rows][cols];
        int[] dr = {1, -1, 0, 0};
        int[] dc = {0, 0, 1, -1};
        int islands = 0, largest = 0;
        ArrayDeque<int[]> queue = new ArrayDeque<>();
        for (int i = 0; i < rows; i++) {
            for (int j = 0; j < cols; j++) {
                if (map[i][j] != '#' || seen[i][j]) continue;
                islands++;
                seen[i][j] = true;
                queue.add(new int[] {i, j});
                int area = 0;
                while (!queue.isEmpty()) {
                    int[] cell = queue.poll();
                    area++;
                    for (int d = 0; d < 4; d++) {
                        int nr = cell[0] + dr[d], nc = cell[1] + dc[d];
                        if (nr < 0 || nc < 0 || nr >= rows || nc >= cols) continue;
                        if (map[nr][nc] == '#' && !seen[nr][nc]) {
                            seen[nr][nc] = true;
                            queue.add(new int[] {nr, nc});
                        }
                    }
                }
                largest = Math.max(largest, area);
            }
        }
        System.out.println(islands + " " + largest);
    }
}
