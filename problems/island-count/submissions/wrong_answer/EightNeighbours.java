import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayDeque;
import java.util.StringTokenizer;

// Wrong: also joins land cells that only touch at a corner (8 neighbours instead
// of the 4 that share a side).
public class EightNeighbours {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(br.readLine());
        int r = Integer.parseInt(st.nextToken()), c = Integer.parseInt(st.nextToken());
        char[][] g = new char[r][];
        for (int i = 0; i < r; i++) g[i] = br.readLine().trim().toCharArray();
        int islands = 0, largest = 0;
        ArrayDeque<int[]> queue = new ArrayDeque<>();
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                if (g[i][j] != '#') continue;
                islands++;
                g[i][j] = '.';
                queue.add(new int[] {i, j});
                int area = 0;
                while (!queue.isEmpty()) {
                    int[] cell = queue.poll();
                    area++;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) {
                            int y = cell[0] + dy, x = cell[1] + dx;
                            if (y >= 0 && y < r && x >= 0 && x < c && g[y][x] == '#') {
                                g[y][x] = '.';
                                queue.add(new int[] {y, x});
                            }
                        }
                }
                largest = Math.max(largest, area);
            }
        System.out.println(islands + " " + largest);
    }
}
