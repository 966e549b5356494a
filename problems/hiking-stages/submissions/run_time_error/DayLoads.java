import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Crashes: the check stores the distance of every day in an array of k entries
// and moves to the next day before asking whether the days have run out, so a
// too-small limit runs past the end (ArrayIndexOutOfBoundsException).
public class DayLoads {
    static int[] d;
    static int k;

    static boolean fits(long x) {
        long[] load = new long[k];
        int day = 0;
        for (int v : d) {
            if (v > x) return false;
            if (load[day] + v > x) day++;
            load[day] += v;
        }
        return true;
    }

    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(br.readLine());
        int n = Integer.parseInt(st.nextToken());
        k = Integer.parseInt(st.nextToken());
        d = new int[n];
        st = new StringTokenizer(br.readLine());
        long hi = 0;
        for (int i = 0; i < n; i++) {
            d[i] = Integer.parseInt(st.nextToken());
            hi += d[i];
        }
        long lo = 1;
        while (lo < hi) {
            long mid = (lo + hi) / 2;
            if (fits(mid)) hi = mid;
            else lo = mid + 1;
        }
        System.out.println(lo);
    }
}
