import java.io.DataInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;

public class AnagramClubs {
    public static void main(String[] args) throws IOException {
        byte[] buf = new DataInputStream(System.in).readAllBytes();
        int p = 0, n = 0;
        while (buf[p] < '0' || buf[p] > '9') p++;
        while (buf[p] >= '0' && buf[p] <= '9') n = n * 10 + (buf[p++] - '0');
        HashMap<String, Integer> clubs = new HashMap<>(2 * n);
        int largest = 0;
        for (int i = 0; i < n; i++) {
            while (buf[p] < 'a' || buf[p] > 'z') p++;
            int start = p;
            while (p < buf.length && buf[p] >= 'a' && buf[p] <= 'z') p++;
            // Sort the letters by counting: anagrams get the same key.
            byte[] key = Arrays.copyOfRange(buf, start, p);
            int[] count = new int[26];
            for (byte b : key) count[b - 'a']++;
            int k = 0;
            for (int c = 0; c < 26; c++)
                for (int j = 0; j < count[c]; j++) key[k++] = (byte) ('a' + c);
            int size = clubs.merge(new String(key, StandardCharsets.ISO_8859_1), 1, Integer::sum);
            largest = Math.max(largest, size);
        }
        System.out.println(clubs.size() + " " + largest);
    }
}
