import java.io.DataInputStream;
import java.io.IOException;

public class IslandCount {
    public static void main(String[] args) throws IOException {
        byte[] in = new DataInputStream(System.in).readAllBytes();
        int p = 0;
        int r = 0, c = 0;
        while (in[p] >= '0' && in[p] <= '9') r = r * 10 + (in[p++] - '0');
        p++;
        while (in[p] >= '0' && in[p] <= '9') c = c * 10 + (in[p++] - '0');
        // Flat grid with a border of water around it: true = unvisited land.
        int w = c + 2;
        boolean[] land = new boolean[w * (r + 2)];
        for (int i = 0; i < r; i++) {
            while (in[p] != '#' && in[p] != '.') p++;
            for (int j = 0; j < c; j++) land[(i + 1) * w + j + 1] = in[p++] == '#';
        }
        int[] queue = new int[r * c];
        int[] offsets = {-1, 1, -w, w};
        int islands = 0, largest = 0;
        for (int s = 0; s < land.length; s++) {
            if (!land[s]) continue;
            islands++;
            land[s] = false;
            int head = 0, tail = 0;
            queue[tail++] = s;
            while (head < tail) {
                int v = queue[head++];
                for (int d : offsets) {
                    int u = v + d;
                    if (land[u]) {
                        land[u] = false;
                        queue[tail++] = u;
                    }
                }
            }
            largest = Math.max(largest, tail);
        }
        System.out.println(islands + " " + largest);
    }
}
