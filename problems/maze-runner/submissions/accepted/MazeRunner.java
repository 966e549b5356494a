import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class MazeRunner {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        StringTokenizer st = new StringTokenizer(br.readLine());
        int r = Integer.parseInt(st.nextToken());
        int c = Integer.parseInt(st.nextToken());
        char[][] g = new char[r][];
        for (int i = 0; i < r; i++) g[i] = br.readLine().trim().toCharArray();
        int[] dist = new int[r * c];
        java.util.Arrays.fill(dist, -1);
        int[] queue = new int[r * c];
        int head = 0, tail = 0;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++)
                if (g[i][j] == 'S') {
                    dist[i * c + j] = 0;
                    queue[tail++] = i * c + j;
                }
        int[] di = {1, -1, 0, 0}, dj = {0, 0, 1, -1};
        while (head < tail) {
            int cur = queue[head++];
            int i = cur / c, j = cur % c;
            if (g[i][j] == 'E') {
                System.out.println(dist[cur]);
                return;
            }
            for (int d = 0; d < 4; d++) {
                int ni = i + di[d], nj = j + dj[d];
                if (ni < 0 || nj < 0 || ni >= r || nj >= c || g[ni][nj] == '#') continue;
                int id = ni * c + nj;
                if (dist[id] >= 0) continue;
                dist[id] = dist[cur] + 1;
                queue[tail++] = id;
            }
        }
        System.out.println(-1);
    }
}
