import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.Arrays;
import java.util.HashMap;

// Crashes: assumes a word has at most 100 letters and copies it into a fixed
// buffer, which throws ArrayIndexOutOfBoundsException on long words.
public class ShortNames {
    public static void main(String[] args) throws IOException {
        BufferedReader br = new BufferedReader(new InputStreamReader(System.in), 1 << 16);
        int n = Integer.parseInt(br.readLine().trim());
        HashMap<String, Integer> clubs = new HashMap<>();
        char[] letters = new char[100];
        int largest = 0;
        for (int i = 0; i < n; i++) {
            String w = br.readLine().trim();
            for (int j = 0; j < w.length(); j++) letters[j] = w.charAt(j);
            Arrays.sort(letters, 0, w.length());
            String key = new String(letters, 0, w.length());
            largest = Math.max(largest, clubs.merge(key, 1, Integer::sum));
        }
        System.out.println(clubs.size() + " " + largest);
    }
}
