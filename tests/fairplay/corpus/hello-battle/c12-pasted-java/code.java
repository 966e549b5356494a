import java.io.*;
import java.math.BigInteger;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        StringTokenizer tokens = new StringTokenizer(reader.readLine());
        BigInteger left = new BigInteger(tokens.nextToken());
        BigInteger right = new BigInteger(tokens.nextToken());
        System.out.println(left.add(right));
    }
}
