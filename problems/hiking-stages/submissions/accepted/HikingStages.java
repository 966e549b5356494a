import java.io.DataInputStream;
import java.io.IOException;

public class HikingStages {
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

    static int[] d;

    /** Days needed when no day may exceed x (x is at least every segment). */
    static int daysNeeded(long x) {
        int days = 1;
        long cur = 0;
        for (int v : d) {
            if (cur + v > x) {
                days++;
                cur = v;
            } else {
                cur += v;
            }
        }
        return days;
    }

    public static void main(String[] args) throws IOException {
        int n = readInt(), k = readInt();
        d = new int[n];
        long lo = 0, hi = 0;
        for (int i = 0; i < n; i++) {
            d[i] = readInt();
            lo = Math.max(lo, d[i]);
            hi += d[i];
        }
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (daysNeeded(mid) <= k) hi = mid;
            else lo = mid + 1;
        }
        System.out.println(lo);
    }
}
