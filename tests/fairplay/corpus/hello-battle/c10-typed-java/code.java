import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer tok = new StringTokenizer(in.readLine());
        long a = Long.parseLong(tok.nextToken());
        long b = Long.parseLong(tok.nextToken());
        System.out.println(a + b);
    }
}
