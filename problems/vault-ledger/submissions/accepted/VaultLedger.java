import java.io.DataInputStream;
import java.io.IOException;

public class VaultLedger {
    private static final DataInputStream in = new DataInputStream(System.in);
    private static final byte[] buf = new byte[1 << 16];
    private static int len = 0, ptr = 0;

    private static int read() throws IOException {
        if (ptr == len) {
            len = in.read(buf, 0, buf.length);
            ptr = 0;
            if (len <= 0) return -1;
        }
        return buf[ptr++];
    }

    private static int skipSpaces() throws IOException {
        int c = read();
        while (c == ' ' || c == '\n' || c == '\r') c = read();
        return c;
    }

    private static int readInt() throws IOException {
        int c = skipSpaces(), r = 0;
        while (c >= '0' && c <= '9') {
            r = r * 10 + (c - '0');
            c = read();
        }
        return r;
    }

    /** Reads a command word and returns its first letter. */
    private static int readWord() throws IOException {
        int first = skipSpaces(), c = read();
        while (c >= 'a' && c <= 'z') c = read();
        return first;
    }

    static long[] bal;
    static int[] tree;  // tree[v] = richest account in the node's range (smallest on ties)
    static int size;

    static int better(int a, int b) {
        if (bal[a] != bal[b]) return bal[a] > bal[b] ? a : b;
        return Math.min(a, b);
    }

    static void add(int a, long delta) {
        bal[a] += delta;
        int v = (a + size) >> 1;
        while (v >= 1) {
            tree[v] = better(tree[2 * v], tree[2 * v + 1]);
            v >>= 1;
        }
    }

    public static void main(String[] args) throws IOException {
        int n = readInt(), q = readInt();
        size = 1;
        while (size < n + 1) size <<= 1;
        bal = new long[size];
        tree = new int[2 * size];
        bal[0] = -1;  // account 0 does not exist and never wins; padding accounts hold 0
        for (int i = 0; i < size; i++) tree[size + i] = i;
        for (int v = size - 1; v >= 1; v--) tree[v] = better(tree[2 * v], tree[2 * v + 1]);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < q; i++) {
            int op = readWord();
            if (op == 'd') {
                int a = readInt();
                add(a, readInt());
                out.append(bal[a]).append('\n');
            } else if (op == 'w') {
                int a = readInt(), x = readInt();
                if (bal[a] >= x) {
                    add(a, -x);
                    out.append(bal[a]).append('\n');
                } else {
                    out.append("DECLINED\n");
                }
            } else if (op == 't') {
                int a = readInt(), b = readInt(), x = readInt();
                if (bal[a] >= x) {
                    add(a, -x);
                    add(b, x);
                    out.append("OK\n");
                } else {
                    out.append("DECLINED\n");
                }
            } else {
                int a = tree[1];
                out.append(a).append(' ').append(bal[a]).append('\n');
            }
        }
        System.out.print(out);
    }
}
