import java.io.DataInputStream;
import java.io.IOException;

public class MirrorNames {
    public static void main(String[] args) throws IOException {
        // Read the whole input at once; it is at most about 0.6 MB.
        DataInputStream in = new DataInputStream(System.in);
        byte[] buf = in.readAllBytes();
        int p = 0, n = buf.length;
        int t = 0;
        while (buf[p] < '0' || buf[p] > '9') p++;
        while (p < n && buf[p] >= '0' && buf[p] <= '9') t = t * 10 + (buf[p++] - '0');
        StringBuilder out = new StringBuilder();
        for (int k = 0; k < t; k++) {
            while (buf[p] < 'a' || buf[p] > 'z') p++;
            int start = p;
            while (p < n && buf[p] >= 'a' && buf[p] <= 'z') p++;
            int i = start, j = p - 1, changes = 0;
            while (i < j) {
                if (buf[i] != buf[j]) changes++;
                i++;
                j--;
            }
            out.append(changes).append('\n');
        }
        System.out.print(out);
    }
}
