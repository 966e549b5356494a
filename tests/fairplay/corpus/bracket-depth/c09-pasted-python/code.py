s = input().strip()
pair = {')': '(', ']': '[', '}': '{', '>': '<'}
st = []
ans = 0
for i in range(len(s)):
    ch = s[i]
    if ch in '([{<':
        st.append(ch)
        ans = max(ans, len(st))
    elif len(st) == 0 or st[-1] != pair[ch]:
        print('NO', i + 1)
        exit()
    else:
        st.pop()
print('YES', ans) if not st else print('NO', len(s) + 1)
