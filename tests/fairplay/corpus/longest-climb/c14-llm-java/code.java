import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.StringTokenizer;

/**
 * Longest Climb: computes the length of the longest strictly increasing
 * subsequence of peak heights in O(n log n).
 */
public class Main {

    /**
     * Finds the first index in tails[0..size) whose value is greater than or equal to target.
     */
    private static int lowerBound(int[] tails, int size, int target) {
        int low = 0;
        int high = size;
        while (low < high) {
            int mid = (low + high) >>> 1;
            if (tails[mid] < target) {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        return low;
    }

    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(reader.readLine().trim());
        StringTokenizer tokenizer = new StringTokenizer(reader.readLine());

        // tails[i] = smallest tail of a strictly increasing subsequence of length i + 1.
        int[] tails = new int[n];
        int size = 0;
        for (int i = 0; i < n; i++) {
            int height = Integer.parseInt(tokenizer.nextToken());
            int position = lowerBound(tails, size, height);
            tails[position] = height;
            if (position == size) {
                size++;
            }
        }
        System.out.println(size);
    }
}
