import java.io.*;
import java.util.*;

public class Main {
    static int[] len;
    static int days;

    static boolean canSplit(long cap) {
        int left = days - 1;
        long walked = 0;
        for (int x : len) {
            if (x > cap) return false;
            if (walked + x > cap) {
                if (left == 0) return false;
                left--;
                walked = x;
            } else {
                walked += x;
            }
        }
        return true;
    }

    public static void main(String[] args) throws IOException {
        StreamTokenizer st = new StreamTokenizer(new BufferedInputStream(System.in));
        st.nextToken();
        int n = (int) st.nval;
        st.nextToken();
        days = (int) st.nval;
        len = new int[n];
        long total = 0;
        for (int i = 0; i < n; i++) {
            st.nextToken();
            len[i] = (int) st.nval;
            total += len[i];
        }
        long left = 0, right = total;
        while (right - left > 1) {
            long m = left + (right - left) / 2;
            if (canSplit(m)) right = m;
            else left = m;
        }
        System.out.println(right);
    }
}
