"""The AI opponent with an OpenAI key: it asks the model (here a local server speaking the
Responses API) for a solution and submits it through the judge; when the model fails, it
falls back to the offline opponent and still plays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.clients import Api, Socket
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import Server, Site

MODEL_ANSWER = (
    "```python\n# written by the model\na, b = map(int, input().split())\nprint(a + b)\n```\n"
)


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        server.set_answer(MODEL_ANSWER)
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, fake: FakeOpenAI) -> Iterator[Server]:
    site = Site(
        tmp_path_factory.mktemp("ai-online"),
        env={
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "OPENAI_MODEL": "gpt-5",
            "OPENAI_TIMEOUT_SECONDS": "5",
            "MOCK_GPT5": "false",
            "MATCH_COUNTDOWN_SECONDS": "0.5",
            "AI_LEVEL": "hard",
            "AI_SPEED": "40",
        },
    )
    site.import_problems("hello-battle")
    server = site.serve()
    server.token = site.token("erin")  # type: ignore[attr-defined]
    server.blobs = site.data / "var" / "blobs"  # type: ignore[attr-defined]
    yield server
    site.stop()


def blob_texts(server: Server) -> dict[Path, str]:
    """Every blob the server stored (submitted code among them)."""
    root: Path = server.blobs  # type: ignore[attr-defined]
    return {p: p.read_text(errors="replace") for p in root.rglob("*") if p.is_file()}


async def play_to_the_end(server: Server) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """A game against the AI, played to its end: the finish, the replay, and the code
    submitted in it (read from blob storage: the replay never has the AI's)."""
    before = blob_texts(server)
    api = Api(server, server.token)  # type: ignore[attr-defined]
    created = await api.call("POST", "/api/matches/ai", {"level": "hard"})
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    socket = await Socket.open(server, api.token, match_id)
    [ai] = [p for p in socket.welcome["match"]["players"] if p["ai"]]
    finished = (await socket.event("finished"))["event"]
    await socket.close()
    assert finished["winner"] == ai["id"]
    replay = (await api.call("GET", f"/api/matches/{match_id}/replay")).json()
    assert all(c["user"] != ai["id"] for c in replay["code"])
    submitted = [text for path, text in blob_texts(server).items() if path not in before]
    return finished, replay, submitted


async def test_the_ai_plays_the_models_solution(server: Server, fake: FakeOpenAI) -> None:
    _finished, replay, submitted = await play_to_the_end(server)
    assert [s["verdict"] for s in replay["submissions"]] == ["AC"]  # the model's answer
    assert any("# written by the model" in code for code in submitted)  # as it came
    [request] = fake.requests
    assert request.body["model"] == "gpt-5" and "input" in request.body
    assert {k.lower(): v for k, v in request.headers.items()}["authorization"] == (
        f"Bearer {fake.api_key}"
    )


async def test_a_failing_model_means_the_offline_opponent(server: Server, fake: FakeOpenAI) -> None:
    fake.set_default("500")
    _finished, replay, submitted = await play_to_the_end(server)
    assert replay["submissions"][-1]["verdict"] == "AC"
    assert submitted and all("# written by the model" not in code for code in submitted)
    assert len(fake.requests) >= 2
