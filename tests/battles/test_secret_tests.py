"""Secret tests stay secret in every mode (issue: a duel won without solving by reading the
hidden tests back from the judge's feedback).

A hostile program writes each test's input to stdout and stderr (raw and hex) and exits with
a code made of its input. It answers the samples correctly, so practice (which stops at the
first failure) runs the secret tests too. Whatever a player, their opponent or a spectator
can read — the submission API and page, its socket, the match and room sockets, the replay —
must hold no secret input, no secret answer and nothing of the program's output on a secret
test: only the verdict, time and memory of each."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.clients import Api, RoomSocket, Socket, room_joined, submission_frames
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

PACKAGE = ROOT / "problems/hello-battle/data"
SAMPLE_INPUTS = sorted(p.read_bytes() for p in (PACKAGE / "sample").glob("*.in"))
# What must never reach a player: secret inputs (raw and as the program's hex) and answers.
# Very short ones ("0 0", "3") would match by chance anywhere.
SECRETS = [
    text
    for path in sorted((PACKAGE / "secret").glob("*"))
    for text in {path.read_text().strip(), path.read_bytes().hex()}
    if len(text.strip()) >= 6
]
LEAKY = f"""
import sys
data = sys.stdin.buffer.read()
if data in {SAMPLE_INPUTS!r}:
    a, b = map(int, data.split())
    print(a + b)
    sys.exit(0)
for stream in (sys.stdout, sys.stderr):
    print(data.decode(), data.hex(), file=stream)
sys.exit(1 + data[0] % 100)
"""
# The same, exiting cleanly: a wrong answer, whose feedback would name the expected token.
LEAKY_WA = LEAKY.replace("sys.exit(1 + data[0] % 100)", "")
ALLOWED_SECRET_FIELDS = {"index", "name", "verdict", "time", "memory", "score", "sample"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    # A slow AI opponent: the game against it lasts while the cheater's code is judged.
    env = {**BATTLE_ENV, "AI_SPEED": "0.05"}
    site = Site(tmp_path_factory.mktemp("secret-tests"), env=env)
    site.import_problems("hello-battle")
    yield site
    site.stop()


def assert_secret(seen: str) -> None:
    """Nothing of the secret tests in what a player saw."""
    for secret in SECRETS:
        assert secret not in seen, f"secret test data reached a player: {secret[:40]}"


def assert_tests_redacted(submission: dict[str, Any]) -> None:
    secret = [t for t in submission["tests"] if not t["sample"]]
    assert secret, "the secret tests were judged"
    for test in secret:
        assert set(test) <= ALLOWED_SECRET_FIELDS, test
        assert test["verdict"] in ("RE", "WA")


async def follow_submission(server: Server, token: str, submission_id: int) -> tuple[str, dict]:
    """Every message of the submission's socket, to the end; the final submission."""
    seen = await submission_frames(server, token, submission_id)
    final = json.loads(seen[-1]).get("submission") if seen else None
    if not final or final["status"] != "done":
        raise AssertionError("the socket closed before the end")
    return "\n".join(seen), final


async def everything_about(api: Api, submission_id: int) -> str:
    """The submission as its owner reads it over HTTP: the API, the list, the page."""
    one = await api.call("GET", f"/api/submissions/{submission_id}")
    assert one.status_code == 200
    listed = await api.call("GET", "/api/submissions")
    async with httpx.AsyncClient(
        base_url=api.server.url, headers={"Authorization": f"Bearer {api.token}"}
    ) as client:
        page = await client.get(f"/submissions/{submission_id}")
    assert page.status_code == 200
    assert_secret("\n".join((one.text, listed.text, page.text)))
    assert_tests_redacted(one.json())
    return "\n".join((one.text, listed.text, page.text))


async def submit(api: Api, code: str, **extra: Any) -> int:
    body = {"problem": "hello-battle", "language": "python", "code": code, **extra}
    reply = await api.call("POST", "/api/submissions", body)
    assert reply.status_code == 201, reply.text
    return int(reply.json()["id"])


@pytest.mark.parametrize("program", [LEAKY, LEAKY_WA], ids=["stderr-and-exit-code", "wrong-answer"])
async def test_practice_never_shows_secret_test_data(
    site: Site, server: Server, program: str
) -> None:
    api = Api(server, site.token("practiser"))
    submission_id = await submit(api, program)
    streamed, final = await follow_submission(server, api.token, submission_id)
    assert final["tests_passed"] == len(SAMPLE_INPUTS)  # the samples, then a secret failure
    assert_secret(streamed + await everything_about(api, submission_id))
    assert_tests_redacted(final)


async def test_samples_and_custom_runs_keep_full_detail(site: Site, server: Server) -> None:
    """The rule is for secret tests only: a sample's failure and a custom run show all."""
    api = Api(server, site.token("sampler"))
    always_leaks = LEAKY.replace("if data in", "if False and data in")
    samples = await submit(api, always_leaks, kind="samples")
    _streamed, final = await follow_submission(server, api.token, samples)
    [first] = final["tests"]  # stops at the first failure
    assert first["sample"] and first["verdict"] == "RE"
    assert any(sample.hex() in first["feedback"] for sample in SAMPLE_INPUTS)
    custom = await submit(api, always_leaks, kind="custom", input="42 17\n")
    _streamed, final = await follow_submission(server, api.token, custom)
    assert b"42 17".hex() in final["run_output"]


async def test_a_duel_never_shows_secret_test_data(site: Site, server: Server) -> None:
    """A ranked game judges every test of every submission: the player, the opponent and a
    spectator see verdicts, never data, live and in the replay."""
    cheater, opponent, watcher = (Api(server, site.token(n)) for n in ("mallory", "bob", "eve"))
    await cheater.call("POST", "/api/queue")
    match_id = (await opponent.call("POST", "/api/queue")).json()["match"]
    sockets = [await Socket.open(server, api.token, match_id) for api in (cheater, opponent)]
    sockets.append(await Socket.open(server, watcher.token, match_id))
    await sockets[0].event("started")
    submission_id = await submit(cheater, LEAKY, match=match_id)
    streamed, final = await follow_submission(server, cheater.token, submission_id)
    assert len(final["tests"]) == final["tests_total"]  # every test ran
    for socket in sockets:
        result = (await socket.event("result"))["event"]
        assert result["submission"] == submission_id and result["verdict"] == "RE"
    await sockets[0].send({"type": "give_up"})
    for socket in sockets:
        await socket.event("finished")
    replays = [(await api.call("GET", f"/api/matches/{match_id}/replay")).text
               for api in (cheater, opponent, watcher)]  # fmt: skip
    seen = [json.dumps(s.received) for s in sockets] + replays
    assert_secret("\n".join([streamed, await everything_about(cheater, submission_id), *seen]))
    for socket in sockets:
        await socket.close()


async def test_a_room_never_shows_secret_test_data(site: Site, server: Server) -> None:
    host, member = Api(server, site.token("teacher")), Api(server, site.token("student"))
    room = await room_joined(host, member, "Quiz")
    watching = [await RoomSocket.open(server, api.token, room["id"]) for api in (host, member)]
    await host.call("POST", f"/api/rooms/{room['id']}/start")
    submission_id = await submit(member, LEAKY, room=room["id"])
    streamed, _final = await follow_submission(server, member.token, submission_id)
    for socket in watching:
        await socket.event("attempt")
    board = (await host.call("GET", f"/api/rooms/{room['id']}")).text
    seen = [json.dumps(s.received) for s in watching]
    assert_secret(
        "\n".join([streamed, board, await everything_about(member, submission_id), *seen])
    )
    for socket in watching:
        await socket.close()


async def test_a_game_against_the_ai_never_shows_secret_test_data(
    site: Site, server: Server
) -> None:
    player = Api(server, site.token("trudy"))
    created = await player.call("POST", "/api/matches/ai", {"level": "easy"})
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    socket = await Socket.open(server, player.token, match_id)
    await socket.event("started")
    submission_id = await submit(player, LEAKY, match=match_id)
    streamed, final = await follow_submission(server, player.token, submission_id)
    assert len(final["tests"]) == final["tests_total"]  # every test ran
    assert (await socket.event("result"))["event"]["submission"] == submission_id
    await socket.send({"type": "give_up"})
    await socket.event("finished")
    replay = (await player.call("GET", f"/api/matches/{match_id}/replay")).text
    seen = json.dumps(socket.received)
    assert_secret(
        "\n".join([streamed, await everything_about(player, submission_id), seen, replay])
    )
    await socket.close()
