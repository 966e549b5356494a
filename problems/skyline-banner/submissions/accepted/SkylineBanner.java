import java.io.DataInputStream;
import java.io.IOException;

public class SkylineBanner {
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

    public static void main(String[] args) throws IOException {
        int n = readInt();
        long[] h = new long[n + 1];  // h[n] = 0 flushes the stack at the end
        for (int i = 0; i < n; i++) h[i] = readInt();
        // Stack of indices with increasing heights; stack[0] = -1 is a sentinel.
        int[] stack = new int[n + 2];
        int top = 0;
        stack[0] = -1;
        long best = 0;
        for (int i = 0; i <= n; i++) {
            while (top > 0 && h[stack[top]] >= h[i]) {
                int j = stack[top--];
                best = Math.max(best, h[j] * (i - stack[top] - 1));
            }
            stack[++top] = i;
        }
        System.out.println(best);
    }
}
