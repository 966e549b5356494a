import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Crashes: the balances array has n entries but is indexed by the 1-based account
// number, so account n is out of bounds.
public class ZeroBased {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(br.readLine());
        int n = Integer.parseInt(st.nextToken()), q = Integer.parseInt(st.nextToken());
        long[] bal = new long[n];
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < q; i++) {
            st = new StringTokenizer(br.readLine());
            String op = st.nextToken();
            if (op.equals("richest")) {
                int best = 0;
                for (int a = 1; a < n; a++) if (bal[a] > bal[best]) best = a;
                out.append(best + 1).append(' ').append(bal[best]).append('\n');
                continue;
            }
            int a = Integer.parseInt(st.nextToken());
            if (op.equals("deposit")) {
                bal[a] += Long.parseLong(st.nextToken());
                out.append(bal[a]).append('\n');
            } else if (op.equals("withdraw")) {
                long x = Long.parseLong(st.nextToken());
                if (bal[a] >= x) {
                    bal[a] -= x;
                    out.append(bal[a]).append('\n');
                } else {
                    out.append("DECLINED\n");
                }
            } else {
                int b = Integer.parseInt(st.nextToken());
                long x = Long.parseLong(st.nextToken());
                if (bal[a] >= x) {
                    bal[a] -= x;
                    bal[b] += x;
                    out.append("OK\n");
                } else {
                    out.append("DECLINED\n");
                }
            }
        }
        System.out.print(out);
    }
}
