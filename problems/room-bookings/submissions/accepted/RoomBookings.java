import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

public class RoomBookings {
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

    private static long readLong() throws IOException {
        int c = read();
        while (c == ' ' || c == '\n' || c == '\r') c = read();
        long r = 0;
        while (c >= '0' && c <= '9') {
            r = r * 10 + (c - '0');
            c = read();
        }
        return r;
    }

    public static void main(String[] args) throws IOException {
        int n = (int) readLong();
        // Pack (start, end) into one long so that a primitive sort orders by start.
        long[] b = new long[n];
        for (int i = 0; i < n; i++) {
            long s = readLong(), e = readLong();
            b[i] = (s << 32) | e;
        }
        Arrays.sort(b);
        long[] ps = new long[n], pe = new long[n];
        int k = 0;
        for (long x : b) {
            long s = x >>> 32, e = x & 0xffffffffL;
            if (k > 0 && s <= pe[k - 1]) {
                pe[k - 1] = Math.max(pe[k - 1], e);
            } else {
                ps[k] = s;
                pe[k] = e;
                k++;
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(k).append('\n');
        for (int i = 0; i < k; i++) out.append(ps[i]).append(' ').append(pe[i]).append('\n');
        System.out.print(out);
    }
}
