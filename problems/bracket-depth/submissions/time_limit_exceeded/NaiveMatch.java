import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

// Too slow: every closing bracket walks left over already matched characters to
// find its partner. On "((((...))))" this is quadratic.
public class NaiveMatch {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        char[] s = br.readLine().trim().toCharArray();
        int n = s.length;
        boolean[] used = new boolean[n];
        String opens = "([{<", closes = ")]}>";
        for (int i = 0; i < n; i++) {
            int k = closes.indexOf(s[i]);
            if (k < 0) continue;
            used[i] = true;
            int j = i - 1;
            while (j >= 0 && used[j]) j--;
            if (j < 0 || s[j] != opens.charAt(k)) {
                System.out.println("NO " + (i + 1));
                return;
            }
            used[j] = true;
        }
        int depth = 0, best = 0;
        for (int i = 0; i < n; i++) {
            if (!used[i]) {
                System.out.println("NO " + (n + 1));
                return;
            }
            depth += closes.indexOf(s[i]) < 0 ? 1 : -1;
            best = Math.max(best, depth);
        }
        System.out.println("YES " + best);
    }
}
