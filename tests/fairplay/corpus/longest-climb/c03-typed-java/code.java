import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(in.readLine().trim());
        StringTokenizer st = new StringTokenizer(in.readLine());
        int[] ends = new int[n];
        int length = 0;
        for (int i = 0; i < n; i++) {
            int h = Integer.parseInt(st.nextToken());
            int at = Arrays.binarySearch(ends, 0, length, h);
            if (at >= 0) continue;
            at = -at - 1;
            ends[at] = h;
            if (at == length) length++;
        }
        System.out.println(length);
    }
}
