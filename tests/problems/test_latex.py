"""LaTeX statements to Markdown with the real pandoc, on small LaTeX we write."""

from __future__ import annotations

from pathlib import Path

import pytest

from codebattle.problems import assets, latex
from tests.support.hosts import require


@pytest.fixture(autouse=True)
def _pandoc() -> None:
    require(latex.pandoc_path() is not None, "pandoc (scripts/system-deps.sh installs it)")


def convert(tex: str, language: str = "en", **constants: str) -> str:
    markdown, _ = latex.to_markdown(tex, language, constants)
    return markdown


def test_math_sections_and_lists() -> None:
    tex = r"""\problemname{Adding $a+b$}
%% plainproblemname: Adding a+b
Read \textbf{two} numbers $a$ and $b$.
\section*{Input}
One line: $a, b$ ($1 \le a, b \le 10^9$).
$$\sum_{i=1}^{n} a_i$$
\begin{itemize}
\item first
\item second
\end{itemize}
\begin{enumerate}
\item one
\end{enumerate}
\section*{Output}
Print \emph{one} number, see \url{https://example.com}.
"""
    markdown = convert(tex)
    assert "Adding" not in markdown  # the name is the page's title, not the body's
    assert "plainproblemname" not in markdown
    assert "Read **two** numbers $a$ and $b$." in markdown
    assert "## Input" in markdown and "## Output" in markdown  # under the page's <h1>
    assert r"($1 \le a, b \le 10^9$)" in markdown
    assert r"$$\sum_{i=1}^{n} a_i$$" in markdown
    assert "-   first" in markdown and "1.  one" in markdown
    assert "*one*" in markdown and "<https://example.com>" in markdown


def test_input_output_environments_are_headings_in_the_statement_language() -> None:
    tex = r"""\begin{Input}정수 $N$.\end{Input}
\begin{Output}답.\end{Output}
\begin{Interaction}대화.\end{Interaction}"""
    markdown = convert(tex, "ko")
    assert markdown.index("## 입력") < markdown.index("정수 $N$.") < markdown.index("## 출력")
    assert "## 상호작용" in markdown
    assert "## Input" in convert(r"\begin{Input}x\end{Input}", "en")


def test_illustration_is_an_image_and_its_caption() -> None:
    markdown = convert(r"Text.\illustration{0.4}{tree.png}{A tree with $n$ nodes}More.")
    assert "![](tree.png)" in markdown  # no alt text: the caption follows
    assert "*A tree with $n$ nodes*" in markdown
    assert "0.4" not in markdown


def test_a_figure_shows_its_caption() -> None:
    tex = r"""\begin{figure}\centering
\includegraphics[width=0.5\textwidth]{plan.svg}
\caption{The plan, $k$ rooms}
\end{figure}"""
    markdown = convert(tex)
    assert "![](plan.svg)" in markdown
    assert "*The plan, $k$ rooms*" in markdown


def test_constants_and_unknown_ones() -> None:
    tex = r"Up to $\constant{max_n}$ items, \constant{nothing} here."
    markdown, warnings = latex.to_markdown(tex, "en", {"max_n": "10^5"})
    assert "$10^5$" in markdown
    assert warnings == [r"unknown constant \constant{nothing}"]


def test_sample_macros_and_unknown_macros_leave_the_text() -> None:
    tex = r"""Before.
\sampletable{Sample Input}{1.in}{Sample Output}{1.ans}
\nextsample
\frobnicate{x} After \remainingsamples."""
    markdown = convert(tex)
    assert "Before." in markdown and "After" in markdown
    assert "Sample Input" not in markdown and "1.in" not in markdown
    assert "nextsample" not in markdown and "remainingsamples" not in markdown


def test_centered_blocks_and_tables_are_markdown_not_html() -> None:
    tex = r"""\begin{center}Centered $x$.\end{center}
\begin{tabular}{|l|r|}\hline Group & Points \\ \hline $1$ & $30$ \\ \hline\end{tabular}"""
    markdown = convert(tex)
    assert "<div" not in markdown and "<table" not in markdown
    assert "Centered $x$." in markdown
    assert "| Group | Points |" in markdown.replace("  ", " ").replace("  ", " ")
    assert "$30$" in markdown


def test_other_files_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.tex"
    secret.write_text("TOP SECRET\n")
    markdown = convert(f"A \\input{{{secret.with_suffix('')}}} B \\include{{{secret}}} C")
    assert "TOP SECRET" not in markdown
    assert "A" in markdown and "C" in markdown


def test_what_pandoc_cannot_read_raises_and_the_fallback_shows_the_source() -> None:
    broken = "\\begin{itemize}\\item never closed ``` here\n"
    with pytest.raises(latex.LatexError, match="pandoc failed"):
        latex.to_markdown(broken)
    with pytest.raises(latex.LatexError, match="larger than"):
        latex.to_markdown("x" * (latex.MAX_TEX_BYTES + 1))
    shown = latex.source_fallback(broken, "ko")
    assert shown.startswith("이 문제의 LaTeX 지문을")
    # The fence is longer than any run of backticks inside, so the block holds all of it.
    assert "````latex\n" + broken + "````\n" in shown


def test_image_links_point_at_the_asset_route() -> None:
    names = ["tree.png", "plan.svg"]
    text = "![a](tree.png) ![b](./plan.svg) ![c](tree) ![d](gone.png) ![e](https://x.org/i.png)"
    linked, missing = assets.link_images(text, names, "/problems/p/assets/")
    assert "![a](/problems/p/assets/tree.png)" in linked
    assert "![b](/problems/p/assets/plan.svg)" in linked
    assert "![c](/problems/p/assets/tree.png)" in linked  # LaTeX names it without extension
    assert "![d](gone.png)" in linked and "![e](https://x.org/i.png)" in linked
    assert missing == ["gone.png"]


def test_hostile_links_and_html_stay_text_on_the_page() -> None:
    from codebattle.web.render import markdown

    for tex in (r"\href{javascript:alert(1)}{click}", r"<script>alert(1)</script>"):
        html = str(markdown(convert(tex)))
        assert "<script" not in html and 'href="javascript' not in html


def test_a_wrapfigure_is_a_figure_without_its_placement_arguments() -> None:
    tex = r"""\begin{wrapfigure}[8]{r}{0.3\textwidth}
\includegraphics[width=0.3\textwidth]{side.png}
\caption{Beside the text}
\end{wrapfigure}
Text."""
    markdown = convert(tex)
    assert "![](side.png)" in markdown and "*Beside the text*" in markdown
    assert "0.3" not in markdown and "r" not in markdown.split("![")[0]
