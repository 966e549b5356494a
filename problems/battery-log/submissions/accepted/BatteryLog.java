import java.io.DataInputStream;
import java.io.IOException;

public class BatteryLog {
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
        boolean neg = c == '-';
        if (neg) c = read();
        int r = 0;
        while (c >= '0' && c <= '9') {
            r = r * 10 + (c - '0');
            c = read();
        }
        return neg ? -r : r;
    }

    public static void main(String[] args) throws IOException {
        int n = readInt(), q = readInt();
        long[] p = new long[n + 1];  // p[i] = a_1 + ... + a_i
        for (int i = 1; i <= n; i++) p[i] = p[i - 1] + readInt();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < q; i++) {
            int l = readInt(), r = readInt();
            out.append(p[r] - p[l - 1]).append('\n');
        }
        System.out.print(out);
    }
}
