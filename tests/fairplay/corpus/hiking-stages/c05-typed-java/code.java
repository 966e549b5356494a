import java.util.*;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int n = in.nextInt(), k = in.nextInt();
        long[] a = new long[n];
        long biggest = 0, sum = 0;
        for (int i = 0; i < n; i++) {
            a[i] = in.nextLong();
            biggest = Math.max(biggest, a[i]);
            sum += a[i];
        }
        long lo = biggest, hi = sum, best = sum;
        while (lo <= hi) {
            long mid = (lo + hi) >>> 1;
            int count = 1;
            long run = 0;
            for (int i = 0; i < n; i++) {
                run += a[i];
                if (run > mid) {
                    count++;
                    run = a[i];
                }
            }
            if (count <= k) {
                best = mid;
                hi = mid - 1;
            } else {
                lo = mid + 1;
            }
        }
        System.out.println(best);
    }
}
