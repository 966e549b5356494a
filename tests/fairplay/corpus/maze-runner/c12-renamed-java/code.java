import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer tk = new StringTokenizer(br.readLine());
        int h = Integer.parseInt(tk.nextToken());
        int w = Integer.parseInt(tk.nextToken());
        char[][] grid = new char[h][];
        int from = 0;
        for (int y = 0; y < h; y++) {
            grid[y] = br.readLine().toCharArray();
            for (int x = 0; x < w; x++) if (grid[y][x] == 'S') from = y * w + x;
        }
        boolean[] visited = new boolean[h * w];
        int[] layer = new int[h * w], upcoming = new int[h * w];
        int layerSize = 1, dist = 0;
        layer[0] = from;
        visited[from] = true;
        int[] dy = {-1, 1, 0, 0}, dx = {0, 0, -1, 1};
        while (layerSize > 0) {
            int upcomingSize = 0;
            for (int i = 0; i < layerSize; i++) {
                int y = layer[i] / w, x = layer[i] % w;
                if (grid[y][x] == 'E') {
                    System.out.println(dist);
                    return;
                }
                for (int k = 0; k < 4; k++) {
                    int ny = y + dy[k], nx = x + dx[k];
                    if (ny < 0 || nx < 0 || ny >= h || nx >= w) continue;
                    int id = ny * w + nx;
                    if (!visited[id] && grid[ny][nx] != '#') {
                        visited[id] = true;
                        upcoming[upcomingSize++] = id;
                    }
                }
            }
            int[] tmp = layer;
            layer = upcoming;
            upcoming = tmp;
            layerSize = upcomingSize;
            dist++;
        }
        System.out.println(-1);
    }
}
