import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Crashes: marks every busy moment on a timeline sized for times up to 10^6, but
// times go up to 10^8 (ArrayIndexOutOfBoundsException).
public class Timeline {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        int n = Integer.parseInt(br.readLine().trim());
        boolean[] busy = new boolean[1_000_001];
        for (int i = 0; i < n; i++) {
            StringTokenizer st = new StringTokenizer(br.readLine());
            int s = Integer.parseInt(st.nextToken()), e = Integer.parseInt(st.nextToken());
            for (int t = s; t < e; t++) busy[t] = true;
        }
        StringBuilder out = new StringBuilder();
        int count = 0;
        for (int t = 0; t < busy.length; t++) {
            if (busy[t] && (t == 0 || !busy[t - 1])) {
                int end = t;
                while (end < busy.length && busy[end]) end++;
                out.append(t).append(' ').append(end).append('\n');
                count++;
            }
        }
        System.out.print(count + "\n" + out);
    }
}
