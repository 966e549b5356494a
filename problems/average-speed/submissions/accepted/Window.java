import java.io.DataInputStream;
import java.io.IOException;

public class Window {
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

    private static int nextInt() throws IOException {
        int c = read();
        while (c == ' ' || c == '\n' || c == '\r') c = read();
        int x = 0;
        while (c >= '0' && c <= '9') {
            x = x * 10 + (c - '0');
            c = read();
        }
        return x;
    }

    public static void main(String[] args) throws IOException {
        int n = nextInt(), k = nextInt();
        long[] pd = new long[n + 1], pt = new long[n + 1];
        for (int i = 0; i < n; i++) {
            pd[i + 1] = pd[i] + nextInt();
            pt[i + 1] = pt[i] + nextInt();
        }
        double best = 0;
        for (int i = 0; i + k <= n; i++) {
            double cur = (double) (pd[i + k] - pd[i]) / (pt[i + k] - pt[i]);
            if (cur > best) best = cur;
        }
        System.out.printf("%.9f%n", best);
    }
}
