import java.util.*;
import java.io.*;

public class Main {
    public static void main(String[] args) throws IOException {
        StreamTokenizer in = new StreamTokenizer(new BufferedReader(new InputStreamReader(System.in)));
        in.nextToken(); int n = (int) in.nval;
        ArrayList<Integer> lis = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            in.nextToken(); int x = (int) in.nval;
            int idx = Collections.binarySearch(lis, x);
            if (idx >= 0) continue;
            idx = -(idx + 1);
            if (idx == lis.size()) lis.add(x); else lis.set(idx, x);
        }
        System.out.println(lis.size());
    }
}
