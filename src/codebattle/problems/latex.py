"""LaTeX problem statements to our Markdown (CommonMark, pipe tables, $math$ for KaTeX).

Contest archives (problemtools' format) bring only statement/problem.<lang>.tex. We convert
them once, at import, with Debian's pandoc: `-f latex -t gfm+tex_math_dollars-raw_html`
keeps $...$ and $$...$$ as written (KaTeX renders them in the browser), writes pipe tables
(our renderer enables them) and no raw HTML (our renderer shows HTML as text). The macros
of the problemtools class that pandoc does not know are defined in a prelude or removed
before. pandoc runs with --sandbox (\\input and \\include of other files read nothing),
its input capped and under a timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

MAX_TEX_BYTES = 1024 * 1024  # real statements are a few KiB
TIMEOUT_SECONDS = 20

# The 2025-09 class's Input, Output and Interaction environments are section headings.
_HEADINGS = {
    "en": ("Input", "Output", "Interaction"),
    "ko": ("입력", "출력", "상호작용"),
    "sv": ("Indata", "Utdata", "Interaktion"),
}

# \problemname is the page's title (the loader reads it), not part of the body.
# \illustration{width}{file}{caption}: the image, then its caption in its own paragraph (a
# float beside the text is not something Markdown can say).
_PRELUDE = r"""
\newcommand{\problemname}[1]{}
\newcommand{\illustration}[3]{\par\includegraphics{#2}\par\emph{#3}\par}
\newenvironment{Input}{\section*{%s}}{}
\newenvironment{Output}{\section*{%s}}{}
\newenvironment{Interaction}{\section*{%s}}{}
"""

# Divs and spans (center, minipage, ...) would be written as raw HTML: keep their content.
# An image's alt text is pandoc's placeholder "image": empty instead (a screen reader skips
# it; the caption, if any, follows as text). A figure's caption would only be alt text:
# shown in its own paragraph.
_LUA_FILTER = """
function Div(el) return el.content end
function Span(el) return el.content end
function Image(el)
  if pandoc.utils.stringify(el.caption) == "image" then el.caption = {} end
  return el
end
function Para(el)
  local image = el.content[1]
  if #el.content == 1 and image.t == "Image" and image.title:sub(1, 4) == "fig:" then
    local caption = image.caption
    image.caption = {}
    image.title = ""
    return {pandoc.Para{image}, pandoc.Para{pandoc.Emph(caption)}}
  end
end
"""

_CONSTANT = re.compile(r"\\constant\s*\{\s*([A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)?)\s*\}")
# We print the samples under the statement ourselves: the sample macros say nothing here.
# \sampletable takes file arguments: every brace group after it goes with it.
_SAMPLE_MACROS = re.compile(
    r"\\(?:sampletable|sampleentry)(?:\s*\{[^{}]*\})*|\\(?:nextsample|remainingsamples)\b"
)
# wrapfigure (the wrapfig package) is a figure beside the text; pandoc does not know its
# arguments ([lines]{place}[overhang]{width}) and would print them: a plain figure instead.
_WRAPFIGURE = re.compile(r"\\begin\{wrapfigure\}(?:\[[^\]]*\])?\{[^{}]*\}(?:\[[^\]]*\])?\{[^{}]*\}")
_WRAPFIGURE_END = re.compile(r"\\end\{wrapfigure\}")
_LINE = re.compile(r"line (\d+)")
_PLAIN_NAME = re.compile(r"^%%\s*plainproblemname:.*$", re.MULTILINE)


class LatexError(Exception):
    """The statement could not be converted; the message says why, for the importer's
    warning."""


def pandoc_path() -> str | None:
    return shutil.which("pandoc")


def prepare(tex: str, language: str, constants: Mapping[str, str]) -> tuple[str, list[str]]:
    """The LaTeX pandoc reads: the prelude, then the body with constants put in and the
    sample macros removed. Also the names of unknown constants."""
    unknown: list[str] = []

    def constant(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in constants:
            return constants[name]
        unknown.append(name)
        return match.group(0)

    body = _CONSTANT.sub(constant, tex)
    body = _SAMPLE_MACROS.sub("", body)
    body = _WRAPFIGURE_END.sub(r"\\end{figure}", _WRAPFIGURE.sub(r"\\begin{figure}", body))
    body = _PLAIN_NAME.sub("", body)
    headings = _HEADINGS.get(language.split("-")[0], _HEADINGS["en"])
    return _PRELUDE % headings + body, unknown


def to_markdown(
    tex: str, language: str = "en", constants: Mapping[str, str] | None = None
) -> tuple[str, list[str]]:
    """(Markdown, warnings) for a LaTeX statement body. Raises LatexError when pandoc is
    missing, fails, takes too long or the input is too large."""
    pandoc = pandoc_path()
    if pandoc is None:
        raise LatexError("pandoc is not installed")
    if len(tex.encode()) > MAX_TEX_BYTES:
        raise LatexError(f"larger than {MAX_TEX_BYTES // 1024} KiB")
    source, unknown = prepare(tex, language, constants or {})
    warnings = [f"unknown constant \\constant{{{name}}}" for name in sorted(set(unknown))]
    with tempfile.TemporaryDirectory(prefix="cb-latex-") as scratch:
        lua = Path(scratch) / "filter.lua"
        lua.write_text(_LUA_FILTER)
        command = [
            pandoc,
            "--sandbox",
            "--from=latex",
            "--to=gfm+tex_math_dollars-raw_html",
            "--shift-heading-level-by=1",  # the page's <h1> is the problem name
            "--wrap=none",
            f"--lua-filter={lua}",
        ]
        try:
            done = subprocess.run(  # noqa: S603 - fixed arguments, the text on stdin
                command,
                input=source.encode(),
                capture_output=True,
                timeout=TIMEOUT_SECONDS,
                cwd=scratch,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise LatexError(f"pandoc took more than {TIMEOUT_SECONDS} s") from None
    if done.returncode != 0:
        raise LatexError("pandoc failed" + _pandoc_error(done.stderr.decode(errors="replace")))
    return done.stdout.decode(errors="replace").strip() + "\n", warnings


def _pandoc_error(stderr: str) -> str:
    """pandoc's message in one line, its line numbers counted in the statement file (not
    in our prelude)."""
    lines = [
        line.strip()
        for line in stderr.splitlines()
        if line.strip() not in ("", "^") and not line.startswith("[WARNING]")
    ]
    offset = _PRELUDE.count("\n")

    def in_statement(match: re.Match[str]) -> str:
        return f"line {max(1, int(match.group(1)) - offset)}"

    detail = _LINE.sub(in_statement, " ".join(lines))
    return f": {detail[:200]}" if detail else ""


_NOTE = {
    "en": "This statement is written in LaTeX that could not be converted; its source:",
    "ko": "이 문제의 LaTeX 지문을 변환하지 못해 원문을 그대로 보여 줍니다:",
}


def source_fallback(tex: str, language: str = "en") -> str:
    """Markdown for a statement pandoc could not convert: a short note and the LaTeX as a
    code block. Contest LaTeX is mostly prose and math, so its source is still readable,
    where an empty page would leave the problem unusable."""
    longest = max((len(run) for run in re.findall(r"`+", tex)), default=0)
    fence = "`" * max(3, longest + 1)
    note = _NOTE.get(language.split("-")[0], _NOTE["en"])
    return f"{note}\n\n{fence}latex\n{tex.rstrip()}\n{fence}\n"
