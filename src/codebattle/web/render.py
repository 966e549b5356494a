"""Jinja2 templates with the translation helper and the signed-in user."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import markdown_it
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

from codebattle.accounts.profiles import age_band_of
from codebattle.i18n import LOCALES, translate
from codebattle.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["age_band_of"] = age_band_of  # a band now, from the birth year

# Statements are the package author's Markdown: raw HTML is not passed through.
_markdown = (
    markdown_it.MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .use(dollarmath_plugin, double_inline=True)
)


def markdown(text: str) -> Markup:
    return Markup(_markdown.render(text))  # noqa: S704 - html is disabled in the parser


def locale_of(request: Request) -> str:
    return str(getattr(request.state, "locale", "ko"))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    locale = locale_of(request)

    def t(key: str, **params: Any) -> str:
        return translate(key, locale, **params)

    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "locale": locale,
            "locales": LOCALES,
            "user": getattr(request.state, "user", None),
            "csrf_token": csrf_token(request),
            **context,
        },
        status_code=status_code,
    )
