import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

// Integer.parseInt throws NumberFormatException for values outside the int range.
public class ParseInt {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer st = new StringTokenizer(in.readLine());
        int a = Integer.parseInt(st.nextToken());
        int b = Integer.parseInt(st.nextToken());
        System.out.println((long) a + b);
    }
}
