import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Crashes: uses prefix sums pre[i] = ways[0] + ... + ways[i-1] and takes
// pre[i] - pre[i - k] without clamping i - k at 0, so pre[-1] is read as soon as
// k > 1 (ArrayIndexOutOfBoundsException).
public class PrefixIndex {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        StringTokenizer st = new StringTokenizer(br.readLine());
        int n = Integer.parseInt(st.nextToken());
        int k = Integer.parseInt(st.nextToken());
        int m = Integer.parseInt(st.nextToken());
        final long mod = 1_000_000_007L;
        boolean[] blocked = new boolean[n + 1];
        st = new StringTokenizer(br.readLine());
        for (int i = 0; i < m; i++) blocked[Integer.parseInt(st.nextToken())] = true;
        long[] pre = new long[n + 2];
        pre[1] = 1; // ways[0] = 1
        long last = 1;
        for (int i = 1; i <= n; i++) {
            last = blocked[i] ? 0 : ((pre[i] - pre[i - k]) % mod + mod) % mod;
            pre[i + 1] = (pre[i] + last) % mod;
        }
        System.out.println(last);
    }
}
