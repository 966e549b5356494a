"""Jinja2 templates with the translation helper and the signed-in user."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

import markdown_it
from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import pass_context
from jinja2.runtime import Context
from markdown_it.token import Token
from markupsafe import Markup
from mdit_py_plugins.dollarmath import dollarmath_plugin

from codebattle.accounts.profiles import age_band_of
from codebattle.accounts.roles import is_staff
from codebattle.i18n import LOCALES, translate
from codebattle.judge.languages import LANGUAGES
from codebattle.problems.models import ProblemVersion
from codebattle.problems.service import name_of, statement_of
from codebattle.progress.tiers import tier_of, tiers
from codebattle.services import services_of
from codebattle.web.security import csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.globals["age_band_of"] = age_band_of  # a band now, from the birth year
TEMPLATES.env.globals["tier_of"] = tier_of  # a rating's tier, for _player.html
TEMPLATES.env.globals["all_tiers"] = tiers  # every tier, lowest first (room.js names them)
TEMPLATES.env.globals["is_staff"] = is_staff  # one staff rule for pages and services


def zone_name(moment: datetime) -> str:
    """The zone's short name at that moment ("KST"), or its offset ("UTC+9") when the
    zone has no letters for it."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def format_local(value: datetime, zone: tzinfo, what: str = "minute") -> str:
    """A stored time (UTC; naive means UTC) in the site's zone: "2026-12-07 14:16 KST",
    or only the date there ("2026-12-07") with what="date"."""
    moment = (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).astimezone(zone)
    if what == "date":
        return moment.strftime("%Y-%m-%d")
    return f"{moment.strftime('%Y-%m-%d %H:%M')} {zone_name(moment)}"


@pass_context
def local_time(context: Context, value: datetime | None, what: str = "minute") -> str:
    """Jinja filter: every page shows times through it, in settings.PLAN_TIMEZONE with the
    zone named; `{{ t|local_time }}`, `{{ t|local_time("date") }}`."""
    if value is None:
        return ""
    request = context["request"]
    return format_local(value, services_of(request).settings.plan_zone, what)


TEMPLATES.env.filters["local_time"] = local_time

# Statements are the package author's Markdown: raw HTML is not passed through.
_markdown = (
    markdown_it.MarkdownIt("commonmark", {"html": False, "linkify": False})
    .enable("table")
    .use(dollarmath_plugin, double_inline=True)
)


def markdown(text: str, title: str | None = None) -> Markup:
    """The author's Markdown as HTML; with the problem's `title`, a first `# Heading` that
    only repeats it is left out (the page shows the name as its own title already)."""
    tokens = _markdown.parse(text)
    if title and _opens_with(tokens, title):
        tokens = tokens[3:]  # heading_open, its inline text, heading_close
    html = _markdown.renderer.render(tokens, _markdown.options, {})
    return Markup(html)  # noqa: S704 - html is disabled in the parser


def _opens_with(tokens: list[Token], title: str) -> bool:
    return (
        len(tokens) >= 3
        and tokens[0].type == "heading_open"
        and tokens[0].tag == "h1"
        and tokens[1].content.strip().casefold() == title.strip().casefold()
    )


def statement_markup(version: ProblemVersion, locale: str) -> Markup:
    """The statement a page shows in `locale` (problems.service.statement_of), without the
    first heading when it is the problem's name in the statement's language: the docs tell
    authors to start with it, and the problem page and the arena print the name above."""
    lang, text = statement_of(version, locale)
    return markdown(text, title=name_of(version, lang))


def language_title(name: str) -> str:
    """Jinja filter: a submission's language as people call it ("Python 3" for "python");
    an id the judge no longer knows stays as it is."""
    known = LANGUAGES.get(name)
    return known.title if known is not None else name


TEMPLATES.env.filters["language_title"] = language_title


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
            "preview": services_of(request).settings.preview,  # base.html's banner
            **context,
        },
        status_code=status_code,
    )
