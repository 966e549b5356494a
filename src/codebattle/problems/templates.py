"""Starter code shown in the editor for each language, unless a package brings its own
(`templates/solution.py`, `templates/solution.cpp`, `templates/Main.java`)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_TEMPLATES: dict[str, str] = {
    "python": """import sys


def main() -> None:
    data = sys.stdin.read().split()
    # Solve the problem here and print the answer.


main()
""",
    "cpp": """#include <bits/stdc++.h>
using namespace std;

int main() {
    ios::sync_with_stdio(false);
    cin.tie(nullptr);
    // Solve the problem here and print the answer.
    return 0;
}
""",
    "java": """import java.io.*;
import java.util.*;

public class Main {
    public static void main(String[] args) throws IOException {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        // Solve the problem here and print the answer.
    }
}
""",
}

PACKAGE_FILES = {"python": "solution.py", "cpp": "solution.cpp", "java": "Main.java"}


def templates_for(root: Path) -> dict[str, str]:
    templates = dict(DEFAULT_TEMPLATES)
    for language, name in PACKAGE_FILES.items():
        path = root / "templates" / name
        if path.is_file() and path.stat().st_size < 64 * 1024:
            templates[language] = path.read_text(encoding="utf-8", errors="replace")
    return templates
