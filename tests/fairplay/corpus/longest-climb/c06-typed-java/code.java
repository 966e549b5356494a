import java.io.*;
import java.util.*;

public class Main {
    static int size;
    static int[] tree;

    static int best(int l, int r) {
        int res = 0;
        for (l += size, r += size; l < r; l >>= 1, r >>= 1) {
            if ((l & 1) == 1) res = Math.max(res, tree[l++]);
            if ((r & 1) == 1) res = Math.max(res, tree[--r]);
        }
        return res;
    }

    static void set(int i, int v) {
        for (i += size; i > 0; i >>= 1) tree[i] = Math.max(tree[i], v);
    }

    public static void main(String[] args) throws IOException {
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        String[] all = new String(in.readAllBytes()).trim().split("\\s+");
        int n = Integer.parseInt(all[0]);
        int[] h = new int[n];
        for (int i = 0; i < n; i++) h[i] = Integer.parseInt(all[i + 1]);
        int[] sorted = h.clone();
        Arrays.sort(sorted);
        size = 1;
        while (size < n) size <<= 1;
        tree = new int[2 * size];
        int ans = 0;
        for (int x : h) {
            int rank = Arrays.binarySearch(sorted, x);
            while (rank > 0 && sorted[rank - 1] == x) rank--;
            int cur = best(0, rank) + 1;
            set(rank, cur);
            ans = Math.max(ans, cur);
        }
        System.out.println(ans);
    }
}
