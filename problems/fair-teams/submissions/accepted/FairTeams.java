import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

public class FairTeams {
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
        int half = total / 2;
        // can[r]: some group of players has total skill exactly r (0/1 knapsack).
        boolean[] can = new boolean[half + 1];
        can[0] = true;
        for (int x : s)
            for (int r = half; r >= x; r--)
                if (can[r - x]) can[r] = true;
        int best = half;
        while (!can[best]) best--;
        System.out.println(total - 2 * best);
    }
}
