import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayDeque;
import java.util.StringTokenizer;

// Wrong: picks the first exit in reading order and measures the distance to that
// exit only, although another exit may be closer.
public class FirstExitOnly {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        StringTokenizer st = new StringTokenizer(br.readLine());
        int r = Integer.parseInt(st.nextToken());
        int c = Integer.parseInt(st.nextToken());
        char[][] g = new char[r][];
        for (int i = 0; i < r; i++) g[i] = br.readLine().trim().toCharArray();
        int sr = -1, sc = -1, er = -1, ec = -1;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                if (g[i][j] == 'S') { sr = i; sc = j; }
                if (g[i][j] == 'E' && er < 0) { er = i; ec = j; }
            }
        int[][] dist = new int[r][c];
        for (int[] row : dist) java.util.Arrays.fill(row, -1);
        ArrayDeque<int[]> q = new ArrayDeque<>();
        dist[sr][sc] = 0;
        q.add(new int[] {sr, sc});
        int[] di = {1, -1, 0, 0}, dj = {0, 0, 1, -1};
        while (!q.isEmpty()) {
            int[] cur = q.poll();
            for (int d = 0; d < 4; d++) {
                int ni = cur[0] + di[d], nj = cur[1] + dj[d];
                if (ni < 0 || nj < 0 || ni >= r || nj >= c || g[ni][nj] == '#' || dist[ni][nj] >= 0) continue;
                dist[ni][nj] = dist[cur[0]][cur[1]] + 1;
                q.add(new int[] {ni, nj});
            }
        }
        System.out.println(dist[er][ec]);
    }
}
