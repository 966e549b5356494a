import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Wrong: the running window sum is an int that is never reduced modulo
// 10^9 + 7 (only ways[i] is), so it overflows and wraps around to garbage.
public class IntOverflow {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        StringTokenizer st = new StringTokenizer(br.readLine());
        int n = Integer.parseInt(st.nextToken());
        int k = Integer.parseInt(st.nextToken());
        int m = Integer.parseInt(st.nextToken());
        final int mod = 1_000_000_007;
        boolean[] blocked = new boolean[n + 1];
        st = new StringTokenizer(br.readLine());
        for (int i = 0; i < m; i++) blocked[Integer.parseInt(st.nextToken())] = true;
        int[] ways = new int[n + 1];
        ways[0] = 1;
        int window = 1;
        for (int i = 1; i <= n; i++) {
            ways[i] = blocked[i] ? 0 : window % mod;
            window += ways[i];
            if (i >= k) window -= ways[i - k];
        }
        System.out.println(ways[n]);
    }
}
