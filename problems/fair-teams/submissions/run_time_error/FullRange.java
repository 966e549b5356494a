import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Crashes: the table only covers sums up to total / 2, but the update loop runs
// from the full total (ArrayIndexOutOfBoundsException).
public class FullRange {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(br.readLine().trim());
        StringTokenizer st = new StringTokenizer(br.readLine());
        int[] s = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++) {
            s[i] = Integer.parseInt(st.nextToken());
            total += s[i];
        }
        boolean[] can = new boolean[total / 2 + 1];
        can[0] = true;
        for (int x : s)
            for (int r = total; r >= x; r--)
                if (can[r - x]) can[r] = true;
        int best = total / 2;
        while (!can[best]) best--;
        System.out.println(total - 2 * best);
    }
}
