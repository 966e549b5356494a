import java.io.*;
import java.util.*;

public class Main {
    static int[] seg;
    static int k;

    // can we finish within cap?
    static boolean feasible(long cap)
    {
        int rest = k - 1;
        long acc = 0;
        for (int s : seg)
        {
            if (s > cap) return false;
            if (acc + s > cap)
            {
                if (rest == 0) return false;
                rest--;
                acc = s;
            }
            else
            {
                acc += s;
            }
        }
        return true;
    }

    public static void main(String[] args) throws IOException
    {
        StreamTokenizer tok = new StreamTokenizer(new BufferedInputStream(System.in));
        tok.nextToken();
        int n = (int) tok.nval;
        tok.nextToken();
        k = (int) tok.nval;
        seg = new int[n];
        long sum = 0;
        for (int j = 0; j < n; j++)
        {
            tok.nextToken();
            seg[j] = (int) tok.nval;
            sum += seg[j];
        }
        long lo = 0, hi = sum;
        while (hi - lo > 1)
        {
            long mid = lo + (hi - lo) / 2;
            if (feasible(mid)) hi = mid;
            else lo = mid;
        }
        System.out.println(hi);
    }
}
