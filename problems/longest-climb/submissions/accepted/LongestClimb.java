import java.io.DataInputStream;
import java.io.IOException;

public class LongestClimb {
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
        // tails[i] = smallest last height of a strictly rising selection of length i + 1.
        int[] tails = new int[n];
        int size = 0;
        for (int i = 0; i < n; i++) {
            int x = readInt();
            int lo = 0, hi = size;  // find the first tail >= x
            while (lo < hi) {
                int mid = (lo + hi) >>> 1;
                if (tails[mid] < x) lo = mid + 1;
                else hi = mid;
            }
            tails[lo] = x;
            if (lo == size) size++;
        }
        System.out.println(size);
    }
}
