"""The text catalogues (src/codebattle/locales/*.toml, decision 0015): every locale has every
key with the same placeholders, and every key the code or a template asks for exists.

Keys are found statically: the calls in `KEY_ARGUMENT` in Python, `t("...")` and the
`{% set keys = [...] %}` lists in templates. A key built at run time (`t("v_" ~ verdict)`)
is checked by its prefix, and value by value for the values we know (verdicts, match and room
states, submission statuses)."""

from __future__ import annotations

import ast
import re
import string
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from codebattle import i18n
from codebattle.battles import fsm as matches
from codebattle.judge.verdicts import Verdict
from codebattle.rooms import fsm as rooms
from codebattle.submissions.models import DONE, QUEUED, RUNNING

SRC = Path(i18n.__file__).parent
TEMPLATES = SRC / "web" / "templates"
KEY = re.compile(r"[a-z][A-Za-z0-9_]*")

# Callables that take a message key, and the position of the key among their arguments.
KEY_ARGUMENT = {
    "UserError": 1,  # UserError(status, key, ...)
    "IllegalEvent": 0,  # battles/fsm.py: its code becomes a UserError on the match socket
    "translate": 0,  # translate(key, locale, ...)
    "_error": 2,  # app._error(request, status, key, ...)
    "error": 0,  # realtime Stream.error(code): an error frame with its text
}

# A template call with a literal key: t("key") or t('key', name=...).
TEMPLATE_KEY = re.compile(r"""\bt\(\s*(["'])([^"'~]+)\1\s*[,)]""")
# A template call with a key built at run time: t("prefix_" ~ value).
TEMPLATE_PREFIX = re.compile(r"""\bt\(\s*(["'])([^"']+)\1\s*~""")
# A list of keys a page hands to its script: {% set keys = ["a", "b"] %}.
TEMPLATE_KEY_LIST = re.compile(r"\{%-?\s*set\s+keys\s*=\s*\[(.*?)\]\s*-?%\}", re.DOTALL)
QUOTED = re.compile(r"""(["'])([^"']+)\1""")


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def missing_keys(catalogues: Mapping[str, Mapping[str, str]]) -> dict[str, set[str]]:
    """Per locale, the keys some other locale has and it lacks."""
    every = set().union(*catalogues.values())
    return {loc: every - set(c) for loc, c in catalogues.items() if every - set(c)}


def placeholder_mismatches(catalogues: Mapping[str, Mapping[str, str]]) -> set[str]:
    """Keys whose texts do not name the same placeholders in every locale."""
    shared = set.intersection(*(set(c) for c in catalogues.values()))
    return {
        key
        for key in shared
        if len({frozenset(placeholders(c[key])) for c in catalogues.values()}) > 1
    }


def keys_in_python(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        index = KEY_ARGUMENT.get(name or "")
        if index is None or len(node.args) <= index:
            continue
        arg = node.args[index]
        # A log call's message is prose, not a key: only key-shaped literals count.
        if (
            isinstance(arg, ast.Constant)
            and isinstance(arg.value, str)
            and KEY.fullmatch(arg.value)
        ):
            yield arg.value


def keys_in_template(source: str) -> tuple[set[str], set[str]]:
    """(literal keys, prefixes of keys built at run time) of one template."""
    keys = {m.group(2) for m in TEMPLATE_KEY.finditer(source)}
    for listed in TEMPLATE_KEY_LIST.finditer(source):
        keys |= {m.group(2) for m in QUOTED.finditer(listed.group(1))}
    prefixes = {m.group(2) for m in TEMPLATE_PREFIX.finditer(source)}
    return keys, prefixes


def used_keys() -> tuple[dict[str, set[Path]], dict[str, set[Path]]]:
    keys: dict[str, set[Path]] = {}
    prefixes: dict[str, set[Path]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for key in keys_in_python(path.read_text("utf-8")):
            keys.setdefault(key, set()).add(path)
    for path in sorted(TEMPLATES.glob("*.html")):
        literal, built = keys_in_template(path.read_text("utf-8"))
        for key in literal:
            keys.setdefault(key, set()).add(path)
        for prefix in built:
            prefixes.setdefault(prefix, set()).add(path)
    return keys, prefixes


@pytest.fixture(scope="module")
def catalogues() -> dict[str, dict[str, str]]:
    return {locale: i18n.catalogue(locale) for locale in i18n.LOCALES}


def test_every_locale_has_every_key(catalogues: dict[str, dict[str, str]]) -> None:
    assert all(catalogues.values())
    assert missing_keys(catalogues) == {}


def test_placeholders_are_the_same_in_every_locale(catalogues: dict[str, dict[str, str]]) -> None:
    assert placeholder_mismatches(catalogues) == set()


def test_the_checks_catch_a_missing_key_and_a_renamed_placeholder() -> None:
    broken = {"en": {"a": "{name} won", "b": "Draw"}, "ko": {"a": "{who} 승리"}}
    assert missing_keys(broken) == {"ko": {"b"}}
    assert placeholder_mismatches(broken) == {"a"}


def test_every_key_the_code_uses_is_in_the_catalogues(
    catalogues: dict[str, dict[str, str]],
) -> None:
    keys, _ = used_keys()
    # The scan must see the call sites, or this test would pass on nothing.
    assert {"code_too_large", "not_found", "bad_frame", "match_full", "site_name"} <= set(keys)
    unknown = {key: sorted(str(p.relative_to(SRC)) for p in paths) for key, paths in keys.items()}
    unknown = {key: where for key, where in unknown.items() if key not in catalogues["en"]}
    assert unknown == {}


def test_every_key_prefix_a_template_builds_has_keys(
    catalogues: dict[str, dict[str, str]],
) -> None:
    _, prefixes = used_keys()
    assert {"v_", "state_", "mode_"} <= set(prefixes)
    empty = {p for p in prefixes if not any(key.startswith(p) for key in catalogues["en"])}
    assert empty == set()


# Keys built from a value, for every value the value can take.
BUILT_KEYS = [
    ("v_", list(Verdict)),
    ("state_", list(matches.State)),
    ("room_state_", list(rooms.State)),
    ("status_", [QUEUED, RUNNING, DONE]),
]


@pytest.mark.parametrize(("prefix", "values"), BUILT_KEYS, ids=[p for p, _ in BUILT_KEYS])
def test_every_verdict_state_and_status_has_a_text(
    catalogues: dict[str, dict[str, str]], prefix: str, values: list[str]
) -> None:
    assert {prefix + v for v in values} - set(catalogues["en"]) == set()


def test_the_scanners_find_keys_in_each_kind_of_call_site() -> None:
    python = 'raise UserError(404, "a_key")\nawait self.error("b_key")\nlog.error("a log line")'
    assert set(keys_in_python(python)) == {"a_key", "b_key"}
    template = """{{ t("one") }} {{ t('two', n=1) }} {{ t("v_" ~ x) }}
    {% set keys = [
      "three", "four",
    ] %}"""
    assert keys_in_template(template) == ({"one", "two", "three", "four"}, {"v_"})


def test_translate_reads_the_catalogue_and_fills_placeholders() -> None:
    assert i18n.translate("code_too_large", "en", limit=64) == "The code is larger than 64 KiB."
    assert i18n.translate("code_too_large", "ko", limit=64) == "코드가 64 KiB보다 큽니다."
    # An unknown locale reads English; an unknown key shows itself.
    assert i18n.translate("home", "fr") == "Home"
    assert i18n.translate("no_such_key", "ko") == "no_such_key"


def test_catalogues_are_read_once() -> None:
    i18n.catalogue.cache_clear()
    for _ in range(3):
        i18n.translate("home", "ko")
        i18n.translate("home", "en")
    assert i18n.catalogue.cache_info().misses == len(i18n.LOCALES)
