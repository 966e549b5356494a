import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        String[] first = br.readLine().trim().split(" ");
        int h = Integer.parseInt(first[0]), w = Integer.parseInt(first[1]);
        String[] rows = new String[h];
        ArrayDeque<Long> dq = new ArrayDeque<>();
        int[][] dist = new int[h][w];
        for (int[] row : dist) Arrays.fill(row, Integer.MAX_VALUE);
        for (int i = 0; i < h; i++) {
            rows[i] = br.readLine();
            int s = rows[i].indexOf('S');
            if (s >= 0) {
                dist[i][s] = 0;
                dq.add(((long) i << 32) | s);
            }
        }
        int answer = -1;
        while (!dq.isEmpty() && answer < 0) {
            long code = dq.poll();
            int y = (int) (code >> 32), x = (int) code;
            if (rows[y].charAt(x) == 'E') answer = dist[y][x];
            for (int k = 0; k < 4; k++) {
                int yy = y + (k == 0 ? 1 : k == 1 ? -1 : 0);
                int xx = x + (k == 2 ? 1 : k == 3 ? -1 : 0);
                if (yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
                if (rows[yy].charAt(xx) == '#' || dist[yy][xx] != Integer.MAX_VALUE) continue;
                dist[yy][xx] = dist[y][x] + 1;
                dq.add(((long) yy << 32) | xx);
            }
        }
        System.out.println(answer);
    }
}
