"""Interactive samples are shown as their .interaction logs, never as the interactor's data
(the format's "Samples for interactive and multi-pass problems")."""

from __future__ import annotations

from fastapi.testclient import TestClient

from codebattle.problems.service import interaction_steps, samples_to_show


def test_a_log_becomes_steps_of_the_judge_and_the_program() -> None:
    steps = interaction_steps("<10 4\n>? 5\n<>\n---\n>! 7\nnoise\n")
    assert steps == [
        {"who": "judge", "text": "10 4"},
        {"who": "program", "text": "? 5"},
        {"who": "judge", "text": ">"},
        {"who": "pass", "text": ""},
        {"who": "program", "text": "! 7"},
    ]


def test_a_sample_with_a_log_is_shown_even_when_the_statement_holds_its_input() -> None:
    samples = [{"name": "sample/1", "input": "", "answer": "", "interaction": "<1\n>2\n"}]
    shown = samples_to_show("a statement", samples)
    assert [s["steps"] for s in shown] == [
        [{"who": "judge", "text": "1"}, {"who": "program", "text": "2"}]
    ]
    plain = [{"name": "sample/1", "input": "3 4", "answer": "7"}]
    assert samples_to_show("Input: 3 4", plain) == []


def test_the_interactive_problem_page_shows_the_log_not_the_secret_number(
    client: TestClient,
) -> None:
    for lang, judge_word, program_word in (
        ("en", "Judge", "Your program"),
        ("ko", "채점기", "내 프로그램"),
    ):
        client.cookies.set("lang", lang)
        page = client.get("/problems/guess-number").text
        assert 'class="interaction"' in page
        assert judge_word in page and program_word in page
        assert "<code>? 5</code>" in page and "<code>! 7</code>" in page
        # The interactor's data (sample/1.in "10 4" with the answer 7 on its own) is not
        # printed as an input/output pair.
        assert "<pre>10 4" not in page
    detail = client.get("/api/problems/guess-number").json()
    sample = detail["samples"][0]
    assert sample["input"] == "" and sample["answer"] == ""
    assert sample["interaction"].startswith("<10 4")
