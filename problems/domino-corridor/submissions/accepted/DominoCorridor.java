import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class DominoCorridor {
    static final long MOD = 1_000_000_007L;

    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        int t = Integer.parseInt(br.readLine().trim());
        StringBuilder out = new StringBuilder();
        for (int q = 0; q < t; q++) {
            long n = Long.parseLong(br.readLine().trim());
            // Fast doubling from the top bit; (a, b) = (F(k), F(k + 1)).
            long a = 0, b = 1;
            for (int bit = 62; bit >= 0; bit--) {
                long c = a * ((2 * b - a + MOD) % MOD) % MOD;
                long d = (a * a + b * b) % MOD;
                if (((n >> bit) & 1) == 1) {
                    a = d;
                    b = (c + d) % MOD;
                } else {
                    a = c;
                    b = d;
                }
            }
            out.append(b).append('\n');  // tilings of 2 x n = F(n + 1)
        }
        System.out.print(out);
    }
}
