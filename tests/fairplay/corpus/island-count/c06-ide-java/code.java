import java.io.*;
import java.util.*;

public class Main {
    static char[][] g;
    static int R, C;

    static int fill(int r, int c) {
        if (r < 0 || c < 0 || r >= R || c >= C || g[r][c] != '#') return 0;
        g[r][c] = 'x';
        return 1 + fill(r + 1, c) + fill(r - 1, c) + fill(r, c + 1) + fill(r, c - 1);
    }

    public static void main(String[] args) throws Exception {
        Thread t = new Thread(null, () -> {
            try {
                solve();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "big", 1 << 28);
        t.start();
        t.join();
    }

    static void solve() throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        String[] rc = br.readLine().trim().split(" ");
        R = Integer.parseInt(rc[0]);
        C = Integer.parseInt(rc[1]);
        g = new char[R][];
        for (int i = 0; i < R; i++) g[i] = br.readLine().toCharArray();
        int n = 0, big = 0;
        for (int i = 0; i < R; i++)
            for (int j = 0; j < C; j++)
                if (g[i][j] == '#') {
                    n++;
                    big = Math.max(big, fill(i, j));
                }
        System.out.println(n + " " + big);
    }
}
