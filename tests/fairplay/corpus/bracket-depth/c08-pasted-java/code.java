import java.util.*;
import java.io.*;

public class Main {
    public static void main(String[] args) throws Exception {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in));
        String str = br.readLine().trim();
        Stack<Character> stk = new Stack<>();
        Map<Character, Character> mp = new HashMap<>();
        mp.put(')', '('); mp.put(']', '['); mp.put('}', '{'); mp.put('>', '<');
        int res = 0;
        for (int i = 0; i < str.length(); i++) {
            char ch = str.charAt(i);
            if (mp.containsKey(ch)) {
                if (stk.isEmpty() || stk.peek() != mp.get(ch)) { System.out.println("NO " + (i + 1)); return; }
                stk.pop();
            } else { stk.push(ch); res = Math.max(res, stk.size()); }
        }
        System.out.println(stk.isEmpty() ? "YES " + res : "NO " + (str.length() + 1));
    }
}
