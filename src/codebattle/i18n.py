"""Korean and English UI text. The text itself lives in one catalogue per locale
(`locales/<locale>.toml`, decision 0015), read once on first use. The locale comes from the
`lang` cookie (the user's choice), else the browser's Accept-Language; Korean when neither says."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

LOCALES = ("ko", "en")
DEFAULT_LOCALE = "ko"
# A key missing from a catalogue falls back to this locale's text (tests keep both complete).
FALLBACK_LOCALE = "en"


@cache
def catalogue(locale: str) -> dict[str, str]:
    """The messages of one locale, key → text with `{placeholder}`s."""
    text = resources.files("codebattle").joinpath("locales", f"{locale}.toml").read_text("utf-8")
    return {key: str(value) for key, value in tomllib.loads(text).items()}


def translate(key: str, locale: str, **params: Any) -> str:
    text = catalogue(locale if locale in LOCALES else FALLBACK_LOCALE).get(key)
    if text is None:
        text = catalogue(FALLBACK_LOCALE).get(key)
    if text is None:
        return key
    return text.format(**params) if params else text


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    best, best_q = DEFAULT_LOCALE, -1.0
    for part in (accept_language or "").split(",")[:20]:
        tag, _, q = part.strip().partition(";q=")
        lang = tag.split("-")[0].strip().lower()
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if lang in LOCALES and weight > best_q:
            best, best_q = lang, weight
    return best
