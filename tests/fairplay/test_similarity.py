"""The similarity core (issue 13): copies with renamed names, moved whitespace and changed
comments and literals score high, independent solutions low, templates subtract away, the
fragments point at the copied lines, and fingerprints survive JSON."""

from __future__ import annotations

import json

import pytest

from codebattle.fairplay import (
    Fingerprint,
    Index,
    Lines,
    best_matches,
    common,
    compare,
    fingerprint,
    subtract,
    template,
)

# Count the primes up to n: a sieve, its disguised copy, and an independent trial division.
PY_SIEVE = """\
import sys

def main():
    n = int(sys.stdin.readline())
    # sieve of Eratosthenes
    is_prime = [True] * (n + 1)
    is_prime[0] = False
    if n >= 1:
        is_prime[1] = False
    count = 0
    for i in range(2, n + 1):
        if is_prime[i]:
            count += 1
            for j in range(i * i, n + 1, i):
                is_prime[j] = False
    print(count)

main()
"""

PY_SIEVE_COPY = """\
import sys
def solve():
    limit=int(sys.stdin.readline())
    flags=[True]*(limit+1)  # all candidates
    flags[0]=False
    if limit>=1: flags[1]=False
    total=0
    for p in range(2,limit+1):
        if flags[p]:
            total+=1
            for m in range(p*p,limit+1,p): flags[m]=False
    print(total)
solve()
"""

PY_TRIAL = """\
def is_prime(x):
    if x < 2:
        return False
    d = 2
    while d * d <= x:
        if x % d == 0:
            return False
        d += 1
    return True


n = int(input())
print(sum(1 for x in range(n + 1) if is_prime(x)))
"""

CPP_SIEVE = """\
#include <bits/stdc++.h>
using namespace std;

int main() {
    int n;
    cin >> n;
    // sieve of Eratosthenes
    vector<bool> composite(n + 1, false);
    int count = 0;
    for (int i = 2; i <= n; i++) {
        if (!composite[i]) {
            count++;
            for (long long j = 1LL * i * i; j <= n; j += i) composite[j] = true;
        }
    }
    cout << count << "\\n";
    return 0;
}
"""

CPP_SIEVE_COPY = """\
#include <bits/stdc++.h>
using namespace std;
int main(){int lim;cin>>lim;
  /* marks */ vector<bool> bad(lim+1,true);
  int answer=7;
  for(int k=2;k<=lim;k++){
    if(!bad[k]){answer++;
      for(long long q=2LL*k*k;q<=lim;q+=k) bad[q]=true;}
  }
  cout<<answer<<" \\n";
  return 1;
}
"""

CPP_TRIAL = """\
#include <cstdio>

static bool prime(int x) {
    if (x < 2) return false;
    for (int d = 2; d * d <= x; ++d)
        if (x % d == 0) return false;
    return true;
}

int main() {
    int n = 0, found = 0;
    if (scanf("%d", &n) != 1) return 1;
    while (n > 1) {
        found += prime(n);
        --n;
    }
    printf("%d\\n", found);
}
"""

JAVA_SIEVE = """\
import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
        int n = in.nextInt();
        // sieve of Eratosthenes
        boolean[] composite = new boolean[n + 1];
        int count = 0;
        for (int i = 2; i <= n; i++) {
            if (!composite[i]) {
                count++;
                for (long j = (long) i * i; j <= n; j += i) {
                    composite[(int) j] = true;
                }
            }
        }
        System.out.println(count);
    }
}
"""

JAVA_SIEVE_COPY = """\
import java.util.Scanner;
public class Main {
  public static void main(String[] argv) {
    Scanner sc = new Scanner(System.in); int top = sc.nextInt();
    /* crossed out */
    boolean[] out = new boolean[top + 3];
    int c = 1;
    for (int a = 3; a <= top; a++) {
      if (!out[a]) {
        c++;
        for (long b = (long) a * a; b <= top; b += a) { out[(int) b] = true; }
      }
    }
    System.out.println(c);
  }
}
"""

JAVA_TRIAL = """\
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;

public class Main {
    static boolean isPrime(int x) {
        if (x < 2) return false;
        for (int d = 2; (long) d * d <= x; d++) {
            if (x % d == 0) return false;
        }
        return true;
    }

    public static void main(String[] args) throws IOException {
        BufferedReader reader = new BufferedReader(new InputStreamReader(System.in));
        int n = Integer.parseInt(reader.readLine().trim());
        int found = 0;
        while (n > 1) {
            if (isPrime(n--)) found++;
        }
        System.out.println(found);
    }
}
"""

SOLUTIONS = {
    "python": (PY_SIEVE, PY_SIEVE_COPY, PY_TRIAL),
    "cpp": (CPP_SIEVE, CPP_SIEVE_COPY, CPP_TRIAL),
    "java": (JAVA_SIEVE, JAVA_SIEVE_COPY, JAVA_TRIAL),
}


@pytest.mark.parametrize("language", sorted(SOLUTIONS))
def test_a_disguised_copy_scores_high(language: str) -> None:
    original, copy, _ = SOLUTIONS[language]
    match = compare(fingerprint(language, original), fingerprint(language, copy))
    assert match.a_in_b >= 0.8
    assert match.b_in_a >= 0.8
    assert match.score >= 0.8


@pytest.mark.parametrize("language", sorted(SOLUTIONS))
def test_independent_solutions_score_low(language: str) -> None:
    sieve, _, trial = SOLUTIONS[language]
    match = compare(fingerprint(language, sieve), fingerprint(language, trial))
    assert match.score < 0.3
    assert max(match.a_in_b, match.b_in_a) < 0.3


def test_identical_code_scores_one_and_the_score_is_symmetric() -> None:
    a, b = fingerprint("python", PY_SIEVE), fingerprint("python", PY_TRIAL)
    assert compare(a, a).score == 1.0
    ab, ba = compare(a, b), compare(b, a)
    assert (ab.score, ab.a_in_b, ab.b_in_a) == (ba.score, ba.b_in_a, ba.a_in_b)


def test_the_judge_language_ids_share_their_grammars() -> None:
    assert compare(fingerprint("pypy", PY_SIEVE), fingerprint("python", PY_SIEVE)).score == 1
    c_code = '#include <stdio.h>\nint main(void) { int n; scanf("%d", &n); return 0; }\n'
    assert fingerprint("c", c_code).hashes == fingerprint("cpp", c_code).hashes
    with pytest.raises(ValueError):
        fingerprint("brainfuck", "+++")


CPP_TEMPLATE = """\
#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    return 0;
}
"""

JAVA_TEMPLATE = """\
import java.util.Scanner;

public class Main {
    public static void main(String[] args) {
        Scanner in = new Scanner(System.in);
    }
}
"""


@pytest.mark.parametrize(("language", "starter"), [("cpp", CPP_TEMPLATE), ("java", JAVA_TEMPLATE)])
def test_a_template_only_submission_subtracts_to_nothing(language: str, starter: str) -> None:
    tpl = template(language, starter)
    # The starter code reformatted, renamed and commented, submitted as is.
    submitted = "// mine\n" + starter.replace("    ", "\t").replace(" in ", " sc ").replace(
        "\n\n", "\n"
    )
    theirs = subtract(fingerprint(language, submitted), tpl)
    mine = subtract(fingerprint(language, starter), tpl)
    assert theirs.hashes == ()
    assert compare(theirs, mine).score == 0.0


def test_subtracting_boilerplate_keeps_the_solution() -> None:
    tpl = template("cpp", CPP_TEMPLATE)
    a = subtract(fingerprint("cpp", CPP_SIEVE), tpl)
    b = subtract(fingerprint("cpp", CPP_SIEVE_COPY), tpl)
    assert 0 < len(a.hashes) <= len(fingerprint("cpp", CPP_SIEVE).hashes)
    assert compare(a, b).score >= 0.8
    with pytest.raises(ValueError):
        subtract(a, template("cpp", CPP_TEMPLATE, k=5))


def test_fragments_point_at_the_copied_lines() -> None:
    own = "\n".join(f"total_{i} = {i} * {i} + {i} - len(str({i}))" for i in range(12))
    # The copied sieve sits at lines 14-31 of the second file, after unrelated code.
    other = own + "\n\n" + PY_SIEVE
    match = compare(fingerprint("python", PY_SIEVE), fingerprint("python", other))
    assert match.a_in_b == 1.0
    assert match.a_lines[0].start <= 3 and match.a_lines[-1].end >= 16
    assert all(1 <= r.start <= r.end <= 18 for r in match.a_lines)
    assert match.b_lines[0].start >= 13  # nothing matches in the unrelated lines
    assert match.b_lines[-1].end <= 31
    # Merged: no two ranges overlap or touch.
    for first, second in zip(match.b_lines, match.b_lines[1:], strict=False):
        assert first.end + 1 < second.start


def test_a_fingerprint_round_trips_through_json() -> None:
    fp = fingerprint("java", JAVA_SIEVE)
    again = Fingerprint.from_dict(json.loads(json.dumps(fp.to_dict())))
    assert again == fp
    assert compare(again, fp).score == 1.0


@pytest.mark.parametrize("language", ["python", "pypy", "cpp", "c", "java"])
@pytest.mark.parametrize(
    "code",
    ["", "   \n\t\n", "# only a comment\n// another\n", "}}}{{{ ((( 'unterminated", "\x00\xff é"],
)
def test_empty_and_garbage_input_fingerprint(language: str, code: str) -> None:
    fp = fingerprint(language, code)
    assert compare(fp, fingerprint(language, PY_SIEVE)).score >= 0.0
    if not code.strip():
        assert fp.hashes == ()
        assert compare(fp, fp).score == 0.0


def test_broken_code_still_matches_its_copy() -> None:
    broken = PY_SIEVE.replace("print(count)", "print(count") + "\n)))def ("
    match = compare(fingerprint("python", broken), fingerprint("python", PY_SIEVE_COPY))
    assert match.score >= 0.6


def test_best_matches_ranks_the_copy_first() -> None:
    stored = [
        (f"{language}-{name}", fingerprint(language, code))
        for language, codes in SOLUTIONS.items()
        for name, code in zip(("sieve", "trial"), (codes[0], codes[2]), strict=True)
    ]
    index = Index(stored)
    assert len(index) == 6
    found = best_matches(fingerprint("cpp", CPP_SIEVE_COPY), index, limit=2)
    assert found[0][0] == "cpp-sieve"
    assert found[0][1].score >= 0.8
    assert all(m.score < found[0][1].score for _, m in found[1:])
    # A plain iterable works too, and gives the same answer.
    again = best_matches(fingerprint("cpp", CPP_SIEVE_COPY), stored, limit=2)
    assert [key for key, _ in again] == [key for key, _ in found]
    assert best_matches(fingerprint("cpp", ""), index, limit=5) == []
    with pytest.raises(ValueError):
        index.add("cpp-sieve", stored[0][1])


def test_lines_are_plain_values() -> None:
    assert Lines(1, 2) == Lines(1, 2)


def test_common_boilerplate_is_learnt_and_subtracted() -> None:
    reader = (
        "import sys\ndef read_ints():\n    return list(map(int, sys.stdin.buffer.read().split()))\n"
    )
    first = reader + "xs = read_ints()\nprint(sum(xs) % 7)\n"
    second = reader + "data = read_ints()\nfor v in sorted(data):\n    print(v, v * v)\n"
    third = reader + "n, *rest = read_ints()\nprint(max(rest[:n]) if n else -1)\n"
    fps = [fingerprint("python", code, window=4) for code in (first, second, third)]
    shared = common(fps, at_least=3)
    assert shared.hashes  # the reader
    assert (
        compare(fps[0], fps[1]).score
        > compare(subtract(fps[0], shared), subtract(fps[1], shared)).score
    )
    assert common(fps, at_least=4).hashes == ()
    with pytest.raises(ValueError):
        common([], at_least=1)


def test_any_hashable_key_and_ties_keep_the_stored_order() -> None:
    fp = fingerprint("python", PY_SIEVE)
    index = Index([(7, fp), (3, fp), (5, fingerprint("python", PY_TRIAL))])
    assert [key for key, _ in index.best(fp, limit=3)] == [7, 3]
