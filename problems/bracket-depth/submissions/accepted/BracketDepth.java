import java.io.IOException;
import java.io.InputStream;

public class BracketDepth {
    public static void main(String[] args) throws IOException {
        InputStream in = System.in;
        byte[] data = in.readAllBytes();
        int n = data.length;
        while (n > 0 && (data[n - 1] == '\n' || data[n - 1] == '\r')) n--;
        byte[] partner = new byte[128];
        partner[')'] = '(';
        partner[']'] = '[';
        partner['}'] = '{';
        partner['>'] = '<';
        byte[] st = new byte[n];
        int top = 0, depth = 0;
        for (int i = 0; i < n; i++) {
            byte c = data[i];
            byte p = partner[c];
            if (p == 0) {
                st[top++] = c;
                if (top > depth) depth = top;
            } else if (top == 0 || st[--top] != p) {
                System.out.println("NO " + (i + 1));
                return;
            }
        }
        if (top > 0) System.out.println("NO " + (n + 1));
        else System.out.println("YES " + depth);
    }
}
