import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String s = in.readLine();
        String pairs = "()[]{}<>";
        Deque<Character> open = new ArrayDeque<>();
        int most = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            int at = pairs.indexOf(c);
            if (at < 0) continue;
            if (at % 2 == 0) {
                open.push(c);
                if (open.size() > most) most = open.size();
            } else if (open.isEmpty() || open.pop() != pairs.charAt(at - 1)) {
                System.out.println("NO " + (i + 1));
                return;
            }
        }
        if (!open.isEmpty()) System.out.println("NO " + (s.trim().length() + 1));
        else System.out.println("YES " + most);
    }
}
