#include <cstdio>
#include <cstring>

static char st[1000005];

int main() {
    int top = 0, best = 0, pos = 0, bad = 0;
    int ch;
    while ((ch = getchar()) != EOF && ch != '\n' && ch != '\r') {
        pos++;
        if (bad) continue;
        if (ch == '(' || ch == '[' || ch == '{' || ch == '<') {
            st[top++] = (char)ch;
            if (top > best) best = top;
            continue;
        }
        char want = ch == ')' ? '(' : ch == ']' ? '[' : ch == '}' ? '{' : '<';
        if (top == 0 || st[top - 1] != want) bad = pos;
        else top--;
    }
    if (bad) printf("NO %d\n", bad);
    else if (top) printf("NO %d\n", pos + 1);
    else printf("YES %d\n", best);
    return 0;
}
