import java.io.IOException;
import java.io.InputStream;

public class Main {
    public static void main(String[] args) throws IOException {
        InputStream input = System.in;
        byte[] bytes = input.readAllBytes();
        int len = bytes.length;
        while (len > 0 && (bytes[len - 1] == '\n' || bytes[len - 1] == '\r')) len--;
        byte[] opener = new byte[128];
        opener[')'] = '(';
        opener[']'] = '[';
        opener['}'] = '{';
        opener['>'] = '<';
        byte[] stack = new byte[len];
        int sp = 0, best = 0;
        for (int i = 0; i < len; i++) {
            byte ch = bytes[i];
            byte want = opener[ch];
            if (want == 0) {
                stack[sp++] = ch;
                if (sp > best) best = sp;
            } else if (sp == 0 || stack[--sp] != want) {
                System.out.println("NO " + (i + 1));
                return;
            }
        }
        if (sp > 0) System.out.println("NO " + (len + 1));
        else System.out.println("YES " + best);
    }
}
