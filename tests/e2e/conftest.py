"""Browser tests: a real server process (embedded default) and the system Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import require

ROOT = Path(__file__).resolve().parents[2]
CODEBATTLE = str(Path(sys.executable).parent / "codebattle")
CHROMIUM = "/usr/bin/chromium"
PROBLEMS = ["hello-battle"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Module scope, not session: Playwright's sync API keeps an event loop running in the main
# thread while it is open, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("site")
    port = free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(data),
        "DATA_DIR": str(data / "var"),
        "ENVIRONMENT": "development",
        "SECRET_KEY": "browser-test-secret",
        "BASE_URL": f"http://127.0.0.1:{port}",
    }
    subprocess.run(
        [CODEBATTLE, "problems", "import", *(str(ROOT / "problems" / p) for p in PROBLEMS)],
        env=env, cwd=data, check=True, capture_output=True,
    )  # fmt: skip
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(
        [CODEBATTLE, "serve", "--port", str(port)], env=env, cwd=data, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2):  # noqa: S310 - loopback
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((data / "server.log").read_text()) from None
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(Path(CHROMIUM).exists(), f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser, server: str) -> Iterator[Page]:
    context = browser.new_context(base_url=server, locale="en-US")
    new_page = context.new_page()
    errors: list[str] = []
    new_page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield new_page
    context.close()
    assert not errors, errors
