"""Source code to normalised tokens with tree-sitter.

A renamed variable, a changed literal, a new comment or moved whitespace must not change
the token stream, so identifiers become one symbol, literals one symbol per kind (number,
string, character, boolean), and comments and whitespace are dropped. Keywords, operators
and punctuation stay as they are: they are the program's shape.

Well-known library names (`print`, `range`, `cin`, `cout`, `System`, `println`, ...) are
kept as they are: a copier cannot rename them without wrapping them, and two independent
solutions differ in which library calls they make, so keeping them costs no robustness
and sharpens the signal between genuinely different solutions.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import tree_sitter
import tree_sitter_cpp
import tree_sitter_java
import tree_sitter_python

IDENT = "$id"
NUMBER = "$num"
STRING = "$str"
CHAR = "$chr"
BOOL = "$bool"  # true and false are literals too: flipping one is a changed literal
PREPROC = "$pp"  # the body of a #define or another directive: free text to the grammar

# The judge's language ids (judge/languages/) to grammars; C is parsed as C++, PyPy as Python.
_GRAMMARS = {
    "python": "python",
    "pypy": "python",
    "cpp": "cpp",
    "c": "cpp",
    "java": "java",
}


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Library names a copier cannot rename (see the module docstring). Deliberately short and
# free of everyday variable names (`count`, `size`, `out`, `end`): a variable renamed to a
# kept name would change the stream, while a name missing here is only an identifier.
_KEPT: dict[str, frozenset[str]] = {
    "python": _names(
        "print input range len int str float list dict set tuple map zip sorted sum min max "
        "abs enumerate sys stdin stdout readline split strip append sorted join items "
        "values heapq heappush heappop collections deque defaultdict Counter bisect math"
    ),
    "cpp": _names(
        "std cin cout cerr endl printf scanf ios sync_with_stdio tie vector string "
        "unordered_map unordered_set pair make_pair priority_queue deque sort swap "
        "push_back pop_back emplace_back insert erase getline memset main"
    ),
    "java": _names(
        "System println print printf String Integer Long Math Arrays ArrayList HashMap "
        "HashSet Scanner BufferedReader InputStreamReader StringBuilder StringTokenizer "
        "PrintWriter IOException readLine nextInt nextLong nextToken parseInt parseLong "
        "toString main"
    ),
}

# Node types read as one token although the grammar gives them children.
_ATOMS = frozenset(
    {
        "string",  # Python, with its interpolations
        "string_literal",
        "raw_string_literal",
        "concatenated_string",
        "char_literal",
        "character_literal",
        "system_lib_string",
        "text_block",
    }
)


@dataclass(frozen=True, slots=True)
class Token:
    """One normalised token and the (1-based) line it starts on."""

    text: str
    line: int


@cache
def _parser(grammar: str) -> tree_sitter.Parser:
    capsule = {
        "python": tree_sitter_python.language,
        "cpp": tree_sitter_cpp.language,
        "java": tree_sitter_java.language,
    }[grammar]()
    return tree_sitter.Parser(tree_sitter.Language(capsule))


def grammar_of(language: str) -> str:
    """The grammar a judge language id is parsed with; ValueError for an unknown one."""
    try:
        return _GRAMMARS[language]
    except KeyError:
        raise ValueError(f"no similarity grammar for language {language!r}") from None


def tokens(language: str, code: str) -> list[Token]:
    """The normalised tokens of `code`; code that does not parse still gives its tokens."""
    grammar = grammar_of(language)
    if not code.strip():
        return []
    source = code.encode("utf-8", "replace")
    tree = _parser(grammar).parse(source)
    kept = _KEPT[grammar]
    out: list[Token] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        kind = node.type
        if "comment" in kind:
            continue
        if node.child_count and kind not in _ATOMS:
            stack.extend(reversed(node.children))
            continue
        if node.is_missing or node.start_byte == node.end_byte:
            continue  # tree-sitter's recovery inserts zero-width tokens: not in the text
        text = _normalise(kind, node.is_named, source[node.start_byte : node.end_byte], kept)
        if text:
            out.append(Token(text, node.start_point[0] + 1))
    return out


def _normalise(kind: str, named: bool, raw: bytes, kept: frozenset[str]) -> str:
    text = raw.decode("utf-8", "replace")
    if kind in ("true", "false"):
        return BOOL
    if not named:
        return text.strip()  # keywords, operators, punctuation: the shape
    if kind in _ATOMS:
        return CHAR if "char" in kind else STRING
    if "identifier" in kind:
        return text if text in kept else IDENT
    if "literal" in kind or kind in ("integer", "float", "number_literal"):
        return NUMBER
    if kind == "preproc_arg":
        return PREPROC
    if kind in ("string_content", "escape_sequence"):
        return STRING
    return text.strip()  # named leaves such as primitive_type `int`, `true`, `None`
