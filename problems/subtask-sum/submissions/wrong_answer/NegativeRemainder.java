import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.HashMap;
import java.util.StringTokenizer;

// Wrong: Java's % keeps the sign of the dividend, so prefix sums -1 and k-1
// get different "remainders" although their difference is divisible by k.
public class NegativeRemainder {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(br.readLine());
        int n = Integer.parseInt(st.nextToken());
        long k = Long.parseLong(st.nextToken());
        st = new StringTokenizer(br.readLine());
        HashMap<Long, Long> cnt = new HashMap<>();
        cnt.put(0L, 1L);
        long s = 0, ans = 0;
        for (int i = 0; i < n; i++) {
            s = (s + Long.parseLong(st.nextToken())) % k;
            long c = cnt.getOrDefault(s, 0L);
            ans += c;
            cnt.put(s, c + 1);
        }
        System.out.println(ans);
    }
}
