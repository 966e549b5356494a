import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.HashMap;
import java.util.StringTokenizer;

// Remembers the last index of every value, but forgets that an element cannot be paired
// with itself: prints "i i" when a_i = T / 2 appears only once.
public class SelfPair {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(in.readLine());
        int n = Integer.parseInt(st.nextToken());
        long t = Long.parseLong(st.nextToken());
        long[] a = new long[n];
        HashMap<Long, Integer> last = new HashMap<>();
        st = new StringTokenizer(in.readLine());
        for (int i = 0; i < n; i++) {
            a[i] = Long.parseLong(st.nextToken());
            last.put(a[i], i);
        }
        for (int i = 0; i < n; i++) {
            Integer j = last.get(t - a[i]);
            if (j != null) {
                System.out.println((Math.min(i, j) + 1) + " " + (Math.max(i, j) + 1));
                return;
            }
        }
        System.out.println(-1);
    }
}
