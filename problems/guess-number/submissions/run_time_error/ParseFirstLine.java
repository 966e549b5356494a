import java.io.BufferedReader;
import java.io.InputStreamReader;

// Parses the whole first line "N K" as one number: NumberFormatException before any query.
public class ParseFirstLine {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine());
        int lo = 1, hi = n;
        while (true) {
            int mid = (lo + hi) / 2;
            System.out.println("? " + mid);
            System.out.flush();
            String reply = in.readLine().trim();
            if (reply.equals("=")) {
                System.out.println("! " + mid);
                System.out.flush();
                return;
            } else if (reply.equals("<")) {
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
    }
}
