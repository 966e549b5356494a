import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

// Packs value * 2^19 + index into one long, sorts, and binary-searches for T - a_i.
public class SortedKeys {
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

    private static long nextLong() throws IOException {
        int c = read();
        while (c == ' ' || c == '\n' || c == '\r') c = read();
        long x = 0;
        while (c >= '0' && c <= '9') {
            x = x * 10 + (c - '0');
            c = read();
        }
        return x;
    }

    public static void main(String[] args) throws IOException {
        int n = (int) nextLong();
        long t = nextLong();
        long[] a = new long[n];
        long[] keys = new long[n];
        for (int i = 0; i < n; i++) {
            a[i] = nextLong();
            keys[i] = (a[i] << 19) | i;
        }
        Arrays.sort(keys);
        for (int i = 0; i < n; i++) {
            long need = t - a[i];
            if (need < 1) continue;
            // first key with value == need and index > i
            long probe = (need << 19) | (i + 1);
            int pos = Arrays.binarySearch(keys, probe);
            if (pos < 0) pos = -pos - 1;
            if (pos < n && (keys[pos] >> 19) == need) {
                int j = (int) (keys[pos] & ((1 << 19) - 1));
                System.out.println((i + 1) + " " + (j + 1));
                return;
            }
        }
        System.out.println(-1);
    }
}
