"""`codebattle judge prepare`: builds the prebuilt artifacts, prints each one's state and
exits 1 when one could not be built (small fake artifacts in a private store)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebattle.cli import app
from codebattle.judge import languages, prebuilt
from codebattle.judge import sandbox as sandboxes
from codebattle.judge.prebuilt import BuildFailed, Prebuilt, Prebuilts
from codebattle.judge.sandbox import Sandbox

runner = CliRunner()


class Fake(Prebuilt):
    stage = "compile"

    def __init__(self, name: str, *, fails: bool = False) -> None:
        self.name = name
        self.mount = f"/opt/codebattle/{name}"
        self.fails = fails
        self.builds = 0

    def inputs(self) -> list[str]:
        return ["fake 1.0"]

    def build(self, folder: Path) -> None:
        self.builds += 1
        if self.fails:
            raise BuildFailed("no such toolchain")
        (folder / "data").write_text("built")

    def probe(self, sandbox: Sandbox, folder: Path) -> str | None:
        return None

    def args(self) -> tuple[str, ...]:
        return ()


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Prebuilts:
    store = Prebuilts(tmp_path / "prebuilt")
    monkeypatch.setattr(prebuilt, "PREBUILTS", store)
    monkeypatch.setattr(sandboxes, "Sandbox", lambda: object())  # the fakes never use it
    return store


def printed(output: str) -> list[str]:
    """The command's own lines (log lines may go to the same stream)."""
    return [line for line in output.splitlines() if line.startswith(("fake-", "(in "))]


def use(monkeypatch: pytest.MonkeyPatch, *artifacts: Prebuilt) -> None:
    monkeypatch.setattr(languages, "prebuilt", lambda: list(artifacts))


def test_prepare_builds_then_finds_them_ready(
    store: Prebuilts, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = Fake("fake-a"), Fake("fake-b")
    use(monkeypatch, a, b)
    first = runner.invoke(app, ["judge", "prepare"])
    assert first.exit_code == 0, first.output
    lines = printed(first.output)
    assert lines[0].startswith("fake-a: built in ") and lines[0].endswith(" s")
    assert lines[1].startswith("fake-b: built in ")
    assert lines[2] == f"(in {store.root})"
    again = runner.invoke(app, ["judge", "prepare"])
    assert again.exit_code == 0, again.output
    assert printed(again.output)[:2] == ["fake-a: ready", "fake-b: ready"]
    assert (a.builds, b.builds) == (1, 1)
    forced = runner.invoke(app, ["judge", "prepare", "--force"])
    assert forced.exit_code == 0, forced.output
    assert (a.builds, b.builds) == (2, 2)


def test_prepare_exits_1_when_one_fails(store: Prebuilts, monkeypatch: pytest.MonkeyPatch) -> None:
    good, bad = Fake("fake-a"), Fake("fake-b", fails=True)
    use(monkeypatch, good, bad)
    result = runner.invoke(app, ["judge", "prepare"])
    assert result.exit_code == 1, result.output
    lines = printed(result.output)
    assert lines[0].startswith("fake-a: built in ")
    assert lines[1] == "fake-b: failed no such toolchain"
    assert "Traceback" not in result.output
    assert store.ready([good, bad], "compile")[0].artifact is good
    assert not (store.root / "fake-b").exists()
