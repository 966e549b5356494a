"""A newcomer signs in, opens a problem, writes code in the editor, and watches it judged."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.actions import sign_in, type_code

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_CPP_INT32 = (
    "#include <iostream>\nint main() {\nint a, b;\nstd::cin >> a >> b;\n"
    'std::cout << a + b << "\\n";\n}\n'
)
JAVA_BROKEN = "public class Main {\npublic static void main(String[] args) {\nint x = ;\n}\n}\n"


def open_problem(page: Page, language: str) -> None:
    page.click("nav >> text=Problems")
    page.click("text=Hello, Battle!")
    expect(page.locator("#problem-title")).to_have_text("Hello, Battle!")
    expect(page.locator("#editor .cm-content")).to_be_visible()  # the page's script ran
    page.select_option("#language", language)


def test_newcomer_solves_a_problem_in_python(page: Page) -> None:
    sign_in(page)
    open_problem(page, "python")
    type_code(page, SUM_PY)
    page.click("#submit")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "AC", timeout=60_000)
    tests = page.locator("#tests li")
    assert tests.count() > 5
    expect(page.locator("#tests li.v-AC")).to_have_count(tests.count())
    expect(page.locator("#status-line")).to_contain_text(f"{tests.count()} of {tests.count()}")
    expect(page.locator("#history tbody tr").first).to_contain_text("Accepted")
    review = page.locator("#history tbody tr").first.locator("a.review-link")
    expect(review).to_have_text("AI code review")  # accepted: the review is a click away
    assert (review.get_attribute("href") or "").endswith("/review")
    # The math in the statement was rendered by KaTeX.
    assert page.locator("#statement .katex").count() > 0
    # Ctrl+Enter submits too, and the code was remembered for this problem.
    page.reload()
    expect(page.locator("#editor .cm-content")).to_contain_text("map(int, input().split())")
    page.locator("#editor .cm-content").click()
    page.keyboard.press("Control+Enter")
    expect(page.locator("#history tbody tr")).to_have_count(2)


def test_wrong_cpp_shows_wa_and_the_failing_test(page: Page) -> None:
    sign_in(page)
    open_problem(page, "cpp")
    type_code(page, SUM_CPP_INT32)
    page.click("#submit")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "WA", timeout=60_000)
    failing = page.locator("#tests li.v-WA")
    expect(failing).to_have_count(1)
    expect(failing.locator(".feedback")).to_contain_text("expected")


def test_a_failed_secret_test_shows_its_verdict_and_hides_its_data(page: Page) -> None:
    sign_in(page)
    open_problem(page, "python")
    # Right on the examples, wrong on the secret tests' 10^18.
    type_code(page, "a, b = map(int, input().split())\nprint(a + b if abs(a) < 10**15 else 7)\n")
    page.click("#submit")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "WA", timeout=60_000)
    failing = page.locator("#tests li.v-WA")
    expect(failing).to_have_count(1)
    expect(failing.locator(".feedback")).to_have_text(
        "Hidden test: its input and your program's output are not shown."
    )
    expect(page.locator("#tests")).not_to_contain_text("1000000000000000000")


def test_java_compile_error_shows_the_compiler_message(page: Page) -> None:
    sign_in(page)
    open_problem(page, "java")
    type_code(page, JAVA_BROKEN)
    page.click("#submit")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "CE", timeout=60_000)
    expect(page.locator("#compile-output")).to_contain_text("error")


def test_custom_input_run_and_samples(page: Page) -> None:
    sign_in(page)
    open_problem(page, "python")
    type_code(page, SUM_PY)
    page.click("#run-samples")
    expect(page.locator("#verdict")).to_have_attribute("data-verdict", "AC", timeout=60_000)
    page.click("#custom-panel summary")
    page.fill("#custom-input", "40 2\n")
    page.click("#run-custom")
    expect(page.locator("#run-output")).to_have_text("42", timeout=60_000)


def test_korean_and_phone(browser: Browser, server: str) -> None:
    context = browser.new_context(
        base_url=server, locale="ko-KR", viewport={"width": 390, "height": 844},
        is_mobile=True, has_touch=True,
    )  # fmt: skip
    page = context.new_page()
    page.goto("/problems")
    expect(page.locator("h1")).to_have_text("문제")
    page.click("text=안녕, 배틀!")
    expect(page.locator("#problem-title")).to_have_text("안녕, 배틀!")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"page is {width}px wide on a 390px phone"
    # Switching the language is remembered.
    page.click("button[lang=en]")
    expect(page.locator("#problem-title")).to_have_text("Hello, Battle!")
    page.goto("/problems")
    expect(page.locator("h1")).to_have_text("Problems")
    context.close()
