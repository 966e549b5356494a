"""`codebattle serve` and `codebattle worker` ask the bucket first: one that does not answer
stops them with one line, before the database or Redis is touched."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from codebattle.cli import app
from tests.support.s3_server import s3_server, s3_settings  # noqa: F401
from tests.support.servers import free_port


@pytest.mark.parametrize("command", [["serve", "--no-migrate"], ["worker"]])
@pytest.mark.parametrize("fault", ["no such bucket", "nothing listening"])
def test_a_bucket_that_does_not_answer_stops_start_up_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    s3_settings: dict[str, str],  # noqa: F811
    command: list[str],
    fault: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # never reached
    broken = {
        "no such bucket": {"S3_BUCKET": "cb-never-created"},
        "nothing listening": {"S3_ENDPOINT": f"http://127.0.0.1:{free_port()}"},
    }[fault]
    for name, value in {**s3_settings, **broken}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    [line] = [line for line in result.output.splitlines() if line.strip()]
    assert line.startswith("error: blob storage: S3 HEAD bucket on bucket"), line
    assert s3_settings["S3_SECRET_ACCESS_KEY"] not in result.output
