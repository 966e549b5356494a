import java.util.*;
import java.io.*;

public class Main {
    static int N, M;
    static char[][] A;
    static int[][] D;

    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(br.readLine());
        N = Integer.parseInt(st.nextToken()); M = Integer.parseInt(st.nextToken());
        A = new char[N][M]; D = new int[N][M];
        Queue<int[]> Q = new LinkedList<>();
        for (int i = 0; i < N; i++) {
            A[i] = br.readLine().toCharArray();
            Arrays.fill(D[i], -1);
            for (int j = 0; j < M; j++) if (A[i][j] == 'S') { D[i][j] = 0; Q.offer(new int[]{i, j}); }
        }
        int[] DX = {-1, 1, 0, 0}, DY = {0, 0, -1, 1};
        while (!Q.isEmpty()) {
            int[] t = Q.poll();
            if (A[t[0]][t[1]] == 'E') { System.out.println(D[t[0]][t[1]]); return; }
            for (int k = 0; k < 4; k++) {
                int x = t[0] + DX[k], y = t[1] + DY[k];
                if (x < 0 || y < 0 || x >= N || y >= M || A[x][y] == '#' || D[x][y] != -1) continue;
                D[x][y] = D[t[0]][t[1]] + 1;
                Q.offer(new int[]{x, y});
            }
        }
        System.out.println(-1);
    }
}
