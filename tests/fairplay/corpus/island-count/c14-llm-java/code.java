import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Solution for "Island Count".
 *
 * <p>We scan the grid and start a breadth-first search from every unvisited land cell.
 * Each search discovers exactly one island, so the number of searches is the island count.
 */
public class Main {
    /** Row offsets of the four orthogonal neighbours. */
    private static final int[] DR = {-1, 1, 0, 0};
    /** Column offsets of the four orthogonal neighbours. */
    private static final int[] DC = {0, 0, -1, 1};

    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        String[] dimensions = reader.readLine().trim().split("\\s+");
        int rows = Integer.parseInt(dimensions[0]);
        int cols = Integer.parseInt(dimensions[1]);
        char[][] grid = new char[rows][];
        for (int r = 0; r < rows; r++) {
            grid[r] = reader.readLine().trim().toCharArray();
        }

        boolean[][] visited = new boolean[rows][cols];
        int islandCount = 0;
        int largestArea = 0;
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) {
                if (grid[r][c] == '#' && !visited[r][c]) {
                    islandCount++;
                    largestArea = Math.max(largestArea, bfs(grid, visited, r, c));
                }
            }
        }
        System.out.println(islandCount + " " + largestArea);
    }

    /**
     * Performs a breadth-first search starting at (startRow, startCol).
     *
     * @return the number of land cells in the island
     */
    private static int bfs(char[][] grid, boolean[][] visited, int startRow, int startCol) {
        int rows = grid.length;
        int cols = grid[0].length;
        Deque<int[]> queue = new ArrayDeque<>();
        queue.add(new int[] {startRow, startCol});
        visited[startRow][startCol] = true;
        int area = 0;
        while (!queue.isEmpty()) {
            int[] cell = queue.poll();
            area++;
            for (int d = 0; d < 4; d++) {
                int nr = cell[0] + DR[d];
                int nc = cell[1] + DC[d];
                if (nr >= 0 && nr < rows && nc >= 0 && nc < cols
                        && !visited[nr][nc] && grid[nr][nc] == '#') {
                    visited[nr][nc] = true;
                    queue.add(new int[] {nr, nc});
                }
            }
        }
        return area;
    }
}
