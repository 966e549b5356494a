import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

// Wrong: when brackets stay open at the end it reports position n instead of n + 1.
public class UnclosedAtEnd {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        String s = br.readLine().trim();
        int n = s.length();
        char[] st = new char[n];
        int top = 0, depth = 0;
        String opens = "([{<", closes = ")]}>";
        for (int i = 0; i < n; i++) {
            char c = s.charAt(i);
            int k = closes.indexOf(c);
            if (k < 0) {
                st[top++] = c;
                depth = Math.max(depth, top);
            } else if (top == 0 || st[--top] != opens.charAt(k)) {
                System.out.println("NO " + (i + 1));
                return;
            }
        }
        System.out.println(top > 0 ? "NO " + n : "YES " + depth);
    }
}
