import java.io.DataInputStream;
import java.io.IOException;

public class CoinStairs {
    private static final DataInputStream in = new DataInputStream(System.in);
    private static final byte[] buf = new byte[1 << 16];
    private static int len = 0, ptr = 0;

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

    private static int read() throws IOException {
        if (ptr == len) {
            len = in.read(buf, 0, buf.length);
            ptr = 0;
            if (len <= 0) return -1;
        }
        return buf[ptr++];
    }

    public static void main(String[] args) throws IOException {
        final long mod = 1_000_000_007L;
        int n = readInt(), k = readInt(), m = readInt();
        boolean[] blocked = new boolean[n + 1];
        for (int i = 0; i < m; i++) blocked[readInt()] = true;
        long[] ways = new long[n + 1];
        ways[0] = 1;
        long window = 1;
        for (int i = 1; i <= n; i++) {
            ways[i] = blocked[i] ? 0 : window;
            window = (window + ways[i]) % mod;
            if (i >= k) window = (window - ways[i - k] + mod) % mod;
        }
        System.out.println(ways[n]);
    }
}
