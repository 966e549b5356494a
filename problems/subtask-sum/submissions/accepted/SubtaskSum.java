import java.io.DataInputStream;
import java.io.IOException;
import java.util.Arrays;

public class SubtaskSum {
    private static final DataInputStream in = new DataInputStream(System.in);
    private static final byte[] buf = new byte[1 << 16];
    private static int len = 0, ptr = 0;

    private static int readByte() throws IOException {
        if (ptr == len) {
            len = in.read(buf, 0, buf.length);
            ptr = 0;
            if (len <= 0) return -1;
        }
        return buf[ptr++];
    }

    private static long readLong() throws IOException {
        int c = readByte();
        while (c == ' ' || c == '\n' || c == '\r') c = readByte();
        boolean neg = false;
        if (c == '-') {
            neg = true;
            c = readByte();
        }
        long r = 0;
        while (c >= '0' && c <= '9') {
            r = r * 10 + (c - '0');
            c = readByte();
        }
        return neg ? -r : r;
    }

    public static void main(String[] args) throws IOException {
        int n = (int) readLong();
        long k = readLong();
        long[] rem = new long[n + 1];
        long s = 0;
        for (int i = 1; i <= n; i++) {
            s = Math.floorMod(s + readLong(), k);
            rem[i] = s;
        }
        Arrays.sort(rem);
        long ans = 0;
        int i = 0;
        while (i <= n) {
            int j = i;
            while (j <= n && rem[j] == rem[i]) j++;
            long c = j - i;
            ans += c * (c - 1) / 2;
            i = j;
        }
        System.out.println(ans);
    }
}
