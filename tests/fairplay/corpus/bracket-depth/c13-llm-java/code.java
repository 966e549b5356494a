import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

/**
 * Bracket Depth: validates the nesting of four bracket types and reports either
 * the maximum depth or the 1-based position of the first error.
 */
public class Main {

    /**
     * Returns the opening bracket matching the given closing bracket,
     * or {@code 0} if the character is an opening bracket.
     */
    private static char matchingOpen(char closing) {
        switch (closing) {
            case ')':
                return '(';
            case ']':
                return '[';
            case '}':
                return '{';
            case '>':
                return '<';
            default:
                return 0;
        }
    }

    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        String input = reader.readLine().trim();
        int n = input.length();

        // Use a plain array as a stack for performance (n can be up to 10^6).
        char[] stack = new char[n];
        int top = 0;
        int maxDepth = 0;

        for (int i = 0; i < n; i++) {
            char current = input.charAt(i);
            char expected = matchingOpen(current);
            if (expected == 0) {
                // Opening bracket: push it and update the maximum depth.
                stack[top++] = current;
                maxDepth = Math.max(maxDepth, top);
            } else if (top == 0 || stack[top - 1] != expected) {
                // Mismatched or unexpected closing bracket.
                System.out.println("NO " + (i + 1));
                return;
            } else {
                top--;
            }
        }

        // Unclosed brackets remain: the error is just after the string.
        System.out.println(top == 0 ? "YES " + maxDepth : "NO " + (n + 1));
    }
}
