import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

public class TollCoupon {
    private static final DataInputStream in = new DataInputStream(System.in);
    private static final byte[] buf = new byte[1 << 16];
    private static int len = 0, ptr = 0;

    private static int read() throws IOException {
        if (ptr == len) {
            len = in.read(buf, 0, buf.length);
            ptr = 0;
            if (len <= 0) return -1;
        }
        return buf[ptr++];
    }

    private static int readInt() throws IOException {
        int c = read();
        while (c == ' ' || c == '\n' || c == '\r') c = read();
        int r = 0;
        while (c >= '0' && c <= '9') {
            r = r * 10 + (c - '0');
            c = read();
        }
        return r;
    }

    static int n;
    static int[] head, next, to, cost;

    /** Binary heap of (distance, city) packed as distance * 2^14 + city. */
    static long[] dijkstra(int src) {
        long[] dist = new long[n + 1];
        Arrays.fill(dist, Long.MAX_VALUE);
        dist[src] = 0;
        long[] heap = new long[next.length + 1];
        int size = 0;
        heap[size++] = src;
        while (size > 0) {
            long top = heap[0];
            long last = heap[--size];
            int i = 0;  // sift the last element down from the root
            while (true) {
                int c = 2 * i + 1;
                if (c >= size) break;
                if (c + 1 < size && heap[c + 1] < heap[c]) c++;
                if (heap[c] >= last) break;
                heap[i] = heap[c];
                i = c;
            }
            if (size > 0) heap[i] = last;
            long d = top >>> 14;
            int u = (int) (top & ((1 << 14) - 1));
            if (d > dist[u]) continue;
            for (int e = head[u]; e != -1; e = next[e]) {
                int v = to[e];
                long nd = d + cost[e];
                if (nd < dist[v]) {
                    dist[v] = nd;
                    long key = (nd << 14) | v;
                    int j = size++;  // sift up
                    while (j > 0 && heap[(j - 1) / 2] > key) {
                        heap[j] = heap[(j - 1) / 2];
                        j = (j - 1) / 2;
                    }
                    heap[j] = key;
                }
            }
        }
        return dist;
    }

    public static void main(String[] args) throws IOException {
        n = readInt();
        int m = readInt();
        head = new int[n + 1];
        Arrays.fill(head, -1);
        next = new int[2 * m];
        to = new int[2 * m];
        cost = new int[2 * m];
        int[] us = new int[m], vs = new int[m];
        for (int i = 0; i < m; i++) {
            int u = readInt(), v = readInt(), w = readInt();
            us[i] = u;
            vs[i] = v;
            to[2 * i] = v; cost[2 * i] = w; next[2 * i] = head[u]; head[u] = 2 * i;
            to[2 * i + 1] = u; cost[2 * i + 1] = w; next[2 * i + 1] = head[v]; head[v] = 2 * i + 1;
        }
        // Coupon on road (u, v): cheapest 1 -> u, free road, cheapest v -> n.
        long[] a = dijkstra(1), b = dijkstra(n);
        long best = Long.MAX_VALUE;
        for (int i = 0; i < m; i++) {
            int u = us[i], v = vs[i];
            if (a[u] != Long.MAX_VALUE && b[v] != Long.MAX_VALUE) best = Math.min(best, a[u] + b[v]);
            if (a[v] != Long.MAX_VALUE && b[u] != Long.MAX_VALUE) best = Math.min(best, a[v] + b[u]);
        }
        System.out.println(best == Long.MAX_VALUE ? -1 : best);
    }
}
