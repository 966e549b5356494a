import java.io.*;
import java.util.*;

public class Main {
    static char opener(char c) {
        switch (c) {
            case ')': return '(';
            case ']': return '[';
            case '}': return '{';
            case '>': return '<';
            default: return 0;
        }
    }

    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String line = in.readLine().trim();
        char[] stack = new char[line.length()];
        int size = 0, max = 0;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            char need = opener(c);
            if (need == 0) {
                stack[size++] = c;
                max = Math.max(max, size);
                continue;
            }
            if (size == 0 || stack[size - 1] != need) {
                System.out.println("NO " + (i + 1));
                return;
            }
            size--;
        }
        System.out.println(size == 0 ? "YES " + max : "NO " + (line.length() + 1));
    }
}
