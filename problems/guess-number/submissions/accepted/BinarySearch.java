import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.util.StringTokenizer;

public class BinarySearch {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        PrintWriter out = new PrintWriter(System.out);
        StringTokenizer st = new StringTokenizer(in.readLine());
        long n = Long.parseLong(st.nextToken());
        long lo = 1, hi = n;
        while (true) {
            long mid = (lo + hi) / 2;
            out.println("? " + mid);
            out.flush();
            String reply = in.readLine().trim();
            if (reply.equals("=")) {
                out.println("! " + mid);
                out.flush();
                return;
            } else if (reply.equals("<")) {
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
    }
}
