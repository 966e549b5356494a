import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        int count = Integer.parseInt(br.readLine().trim());
        StringTokenizer tk = new StringTokenizer(br.readLine());
        int[] tails = new int[count];
        int best = 0;
        for (int k = 0; k < count; k++) {
            int peak = Integer.parseInt(tk.nextToken());
            int pos = Arrays.binarySearch(tails, 0, best, peak);
            if (pos >= 0) continue;   // already there: cannot extend strictly
            pos = -pos - 1;
            tails[pos] = peak;
            if (pos == best) best++;
        }
        System.out.println(best);
    }
}
