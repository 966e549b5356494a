"""Whole games on a real server (embedded default: SQLite, in-process judge and pub/sub):
the ranked queue pairs two players, they play over the match socket, a spectator watches
and chats, the judge's results decide, and the replay shows the code afterwards. A game
against the offline AI opponent finishes on its own."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.clients import Api, RoomSocket, Socket
from tests.support.servers import BATTLE_ENV, ROOT, Server, Site

SOLUTION = (ROOT / "problems/hello-battle/submissions/accepted/sum.py").read_text()
WRONG = "print(0)\n"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(
        tmp_path_factory.mktemp("battles"), env={**BATTLE_ENV, "QUEUE_AI_OFFER_SECONDS": "0"}
    )
    site.import_problems("hello-battle")
    yield site
    site.stop()


async def test_a_ranked_duel_from_queue_to_replay(site: Site, server: Server) -> None:
    alice, bob, carol = (Api(server, site.token(n)) for n in ("alice", "bob", "carol"))
    assert (await alice.call("POST", "/api/queue")).json()["state"] == "waiting"
    assert (await alice.call("GET", "/api/queue")).json()["ai_offer"] is True
    paired = (await bob.call("POST", "/api/queue")).json()
    assert paired["state"] == "paired"
    match_id = paired["match"]
    assert (await alice.call("GET", "/api/queue")).json() == paired
    # A player is in one game at a time.
    again = await alice.call("POST", "/api/queue")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_in_match"

    a = await Socket.open(server, alice.token, match_id)
    b = await Socket.open(server, bob.token, match_id)
    watcher = await Socket.open(server, carol.token, match_id)
    assert a.welcome["role"] == b.welcome["role"] == "player"
    assert watcher.welcome["role"] == "spectator"
    assert {p["nickname"] for p in a.welcome["match"]["players"]} == {"alice", "bob"}
    assert "server_time" in a.welcome
    started = await watcher.event("started")  # the server's clock ends the countdown
    await a.event("started")

    # Bad frames and forbidden actions get an error; the connection and the game survive.
    await watcher.send("{broken")
    assert (await watcher.next("error"))["code"] == "bad_frame"
    await watcher.send({"type": "give_up"})
    assert (await watcher.next("error"))["code"] == "not_a_player"
    await watcher.send({"type": "code", "language": "python", "code": "x"})
    assert (await watcher.next("error"))["code"] == "not_a_player"
    await a.send({"type": "fly"})
    assert (await a.next("error"))["code"] == "unknown_action"
    # Over a player's limit (code + 4 KiB) but under the transport's: the app refuses it.
    await a.send("x" * (64 * 1024 + 4096 + 1))
    assert (await a.next("error"))["code"] == "bad_frame"
    await a.send({"type": "ping"})
    await a.next("pong")

    # Typing: others see activity, never code.
    await a.send({"type": "code", "language": "python", "code": "import sys\n"})
    activity = await b.next("activity")
    assert activity["user"] == a.welcome["me"] and activity["chars"] == len("import sys\n")
    assert "code" not in activity
    await watcher.next("activity")

    # Chat: the players' channel and the spectators' never mix for players.
    await watcher.send({"type": "chat", "text": "go alice"})
    await a.send({"type": "chat", "text": "good luck"})
    await watcher.send({"type": "chat", "text": "y" * 501})
    assert (await watcher.next("error"))["code"] == "chat_too_long"
    assert (await watcher.next("chat", channel="spectators"))["text"] == "go alice"
    assert (await watcher.next("chat", channel="players"))["text"] == "good luck"
    assert (await b.next("chat"))["text"] == "good luck"

    # No code while the game is on: not the replay, not the opponent's submission.
    early = await carol.call("GET", f"/api/matches/{match_id}/replay")
    assert early.status_code == 409

    wrong = await bob.submit(match_id, WRONG)
    result = await a.event("result")
    assert result["event"]["user"] == b.welcome["me"] and result["event"]["passed"] < 22
    assert result["event"]["submission"] == wrong
    assert (await alice.call("GET", f"/api/submissions/{wrong}")).status_code == 404

    await a.send({"type": "code", "language": "python", "code": SOLUTION})
    await alice.submit(match_id, SOLUTION)
    finished = await watcher.event("finished")
    assert finished["event"]["winner"] == a.welcome["me"]
    assert finished["event"]["reason"] == "solved"
    rated = (await watcher.event("rated"))["event"]["changes"]
    assert {c["reason"] for c in rated} == {"won", "lost"}
    assert all(c["delta"] != 0 for c in rated)

    # Everyone saw every logged event once, in order (spectators included).
    for socket in (a, b, watcher):
        seqs = socket.seqs()
        assert seqs == list(range(1, seqs[-1] + 1)), seqs
    # A client that reconnects with the last sequence number it saw gets just the rest.
    middle = started["seq"]
    again_watcher = await Socket.open(server, carol.token, match_id, last_seq=middle)
    rest = [(await again_watcher.next("event"))["seq"] for _ in range(watcher.seqs()[-1] - middle)]
    assert rest == list(range(middle + 1, watcher.seqs()[-1] + 1))

    replay = (await carol.call("GET", f"/api/matches/{match_id}/replay")).json()
    assert [e["seq"] for e in replay["events"]] == list(range(1, len(replay["events"]) + 1))
    assert replay["next"] is None  # a short game's code fits one page
    codes = {c["id"]: c["code"] for c in replay["code"] if c["kind"] == "submission"}
    assert codes[wrong] == WRONG and SOLUTION in codes.values()
    assert any(c["code"] == "import sys\n" for c in replay["code"] if c["kind"] == "snapshot")
    for socket in (a, b, watcher, again_watcher):
        await socket.close()

    # A rematch: both ask; the old match's log announces the new one, same players.
    a = await Socket.open(server, alice.token, match_id)
    b = await Socket.open(server, bob.token, match_id)
    await a.send({"type": "rematch"})
    await b.event("rematch_offered")
    await b.send({"type": "rematch"})
    created = (await a.event("rematch_created"))["event"]
    new = (await alice.call("GET", f"/api/matches/{created['match']}")).json()
    assert {p["nickname"] for p in new["players"]} == {"alice", "bob"} and new["rated"]
    assert (await b.event("rematch_created"))["event"]["match"] == created["match"]
    for socket in (a, b):
        await socket.send({"type": "give_up"})  # too late: this game is over
        assert (await socket.next("error"))["code"] == "match_over"
        await socket.close()
    await alice.call("POST", "/api/queue")  # busy: the rematch is on
    assert (await alice.call("GET", "/api/queue")).json()["state"] == "idle"

    # The winner's profile: the rating change with its reason, and the game.
    profile = (await carol.call("GET", "/api/users/alice")).json()
    assert profile["changes"][0]["reason"] == "won" and profile["changes"][0]["match"] == match_id
    assert profile["rating"] == profile["changes"][0]["after"]
    assert [m["id"] for m in profile["matches"]] == [created["match"], match_id]  # newest first
    page = await carol.call("GET", "/users/alice")
    assert page.status_code == 200 and "<polyline" in page.text


async def test_the_offline_ai_opponent_plays_and_wins_unrated(site: Site, server: Server) -> None:
    dave = Api(server, site.token("dave"))
    created = await dave.call("POST", "/api/matches/ai", {"level": "easy"})
    assert created.status_code == 201, created.text
    match_id = created.json()["id"]
    me = await Socket.open(server, dave.token, match_id)
    [ai] = [p for p in me.welcome["match"]["players"] if p["ai"]]
    assert ai["nickname"] == "AI (easy)" and ai["rating"] is None
    assert me.welcome["match"]["rated"] is False
    await me.next("activity", user=ai["id"])  # it types (activity only)
    submitted = await me.event("submitted")
    assert submitted["event"]["user"] == ai["id"]
    finished = await me.event("finished")
    assert finished["event"]["winner"] == ai["id"] and finished["event"]["reason"] == "solved"
    assert "rated" not in [e["type"] for e in me.events()]
    # A rematch is against the same AI, at the same level (not the default one).
    await me.send({"type": "rematch"})
    again = (await me.event("rematch_created"))["event"]["match"]
    new = (await dave.call("GET", f"/api/matches/{again}")).json()
    assert [p["nickname"] for p in new["players"] if p["ai"]] == ["AI (easy)"]
    await me.close()
    bad = await dave.call("POST", "/api/matches/ai", {"level": "godlike"})
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "level_unknown"


async def test_sockets_refuse_strangers(site: Site, server: Server, tmp_path: Path) -> None:
    import websockets

    async with websockets.connect(f"{server.ws_url}/ws/matches/1") as ws:  # not signed in
        with pytest.raises(websockets.ConnectionClosed) as refused:
            await ws.recv()
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4401


async def test_a_room_with_three_players_and_a_live_leaderboard(site: Site, server: Server) -> None:
    names = [f"room{n}" for n in ("host", "p1", "p2", "p3", "late")]
    host, p1, p2, p3, late = (Api(server, site.token(n)) for n in names)
    created = await host.call(
        "POST", "/api/rooms",
        {"title": "Class 1", "problems": ["hello-battle"], "duration_minutes": 30,
         "size_limit": 3, "public": False},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    room = created.json()
    code, room_id = room["code"], room["id"]
    assert code and room["state"] == "open"
    too_big = await host.call("POST", "/api/rooms", {"title": "x", "problems": ["hello-battle"],
                                                     "size_limit": 5000})  # fmt: skip
    assert too_big.status_code == 422 and too_big.json()["error"]["code"] == "room_size_invalid"

    # Private: the code is needed; the room holds three.
    refused = await p1.call("POST", f"/api/rooms/{room_id}/join", {})
    assert refused.json()["error"]["code"] == "room_code_wrong"
    for player in (p1, p2, p3):
        joined = await player.call("POST", "/api/rooms/join", {"code": code})
        assert joined.status_code == 200, joined.text
    full = await late.call("POST", "/api/rooms/join", {"code": code})
    assert full.status_code == 409 and full.json()["error"]["code"] == "room_full"
    assert (await p1.call("POST", f"/api/rooms/{room_id}/start")).json()["error"]["code"] == (
        "host_only"
    )

    socket = await RoomSocket.open(server, p3.token, room_id)
    assert [e["nickname"] for e in socket.welcome["leaderboard"]] == ["roomp1", "roomp2", "roomp3"]
    early = await p1.call("POST", "/api/submissions", {"problem": "hello-battle",
                          "language": "python", "code": SOLUTION, "room": room_id})  # fmt: skip
    assert early.status_code == 409 and early.json()["error"]["code"] == "room_not_running"
    assert (await host.call("POST", f"/api/rooms/{room_id}/start")).json()["state"] == "running"
    await socket.event("started")

    async def submit(player: Api, code: str) -> None:
        reply = await player.call("POST", "/api/submissions", {"problem": "hello-battle",
                                  "language": "python", "code": code, "room": room_id})  # fmt: skip
        assert reply.status_code == 201, reply.text

    await submit(p1, WRONG)
    assert (await socket.event("attempt"))["event"]["user"] == socket.welcome["leaderboard"][0][
        "user"
    ]
    await submit(p1, SOLUTION)
    await socket.event("solved")
    await submit(p2, SOLUTION)
    second = (await socket.event("solved"))["event"]
    assert second["solved"] == 1
    board = (await host.call("GET", f"/api/rooms/{room_id}")).json()["leaderboard"]
    # p2 solved later but p1 carries 20 minutes for the rejected attempt.
    assert [(r["nickname"], r["rank"], r["solved"]) for r in board] == [
        ("roomp2", 1, 1), ("roomp1", 2, 1), ("roomp3", 3, 0),
    ]  # fmt: skip
    assert board[1]["penalty"] >= 20 * 60
    malformed = await host.call("POST", f"/api/rooms/{room_id}/announce", {"txt": 5})
    assert malformed.status_code == 422 and malformed.json()["error"]["code"] == "bad_request"
    await host.call("POST", f"/api/rooms/{room_id}/announce", {"text": "5 minutes left"})
    assert (await socket.event("announcement"))["event"]["text"] == "5 minutes left"
    assert (await host.call("POST", f"/api/rooms/{room_id}/end")).json()["state"] == "ended"
    assert (await socket.event("ended"))["event"]["reason"] == "host"
    seqs = socket.seqs()
    assert seqs == list(range(seqs[0], seqs[-1] + 1))
    await socket.close()

    # A private room is not for strangers, not even to watch.
    import websockets

    with pytest.raises(websockets.ConnectionClosed) as refused:
        await RoomSocket.open(server, late.token, room_id)
    assert refused.value.rcvd is not None and refused.value.rcvd.code == 4404


async def test_the_room_list_shows_each_viewer_what_they_may_see(
    site: Site, server: Server
) -> None:
    host, guest, passer = (Api(server, site.token(n)) for n in ("lhost", "lguest", "lpasser"))
    ids = []
    for title, public in (("Open A", True), ("Open B", True), ("Hidden", False)):
        made = await host.call(
            "POST", "/api/rooms", {"title": title, "problems": ["hello-battle"], "public": public}
        )
        assert made.status_code == 201, made.text
        ids.append(made.json()["id"])
    first, second, hidden = ids
    assert (await guest.call("POST", f"/api/rooms/{first}/join", {})).status_code == 200

    async def listed(api: Api) -> dict[int, dict[str, object]]:
        return {r["id"]: r for r in (await api.call("GET", "/api/rooms")).json()}

    for_guest, for_passer, for_host = [await listed(a) for a in (guest, passer, host)]
    assert {first, second} <= set(for_guest) and hidden not in for_guest
    assert for_guest[first]["member"] is True and for_guest[first]["code"]
    assert for_guest[second]["member"] is False and for_guest[second]["code"] is None
    assert all(
        not for_passer[i]["member"] and for_passer[i]["code"] is None for i in (first, second)
    )
    assert for_host[second]["code"]  # the host's own room
    assert for_passer[second]["problems"] == [
        {"slug": "hello-battle", "name": for_passer[second]["problems"][0]["name"], "tests": 22}
    ]


async def test_moderators_delete_messages_and_mute(site: Site, server: Server) -> None:
    gina, hank, mod = (Api(server, site.token(n)) for n in ("gina", "hank", "mod"))
    site.cli("users", "role", "mod", "moderator", "--reason", "test")
    await gina.call("POST", "/api/queue")
    match_id = (await hank.call("POST", "/api/queue")).json()["match"]
    g = await Socket.open(server, gina.token, match_id)
    watcher = await Socket.open(server, mod.token, match_id)
    await g.send({"type": "chat", "text": "rude words"})
    posted = await watcher.next("chat")
    await g.send({"type": "chat_delete", "id": posted["id"]})  # players cannot
    assert (await g.next("error"))["code"] == "moderators_only"
    await watcher.send({"type": "chat_delete", "id": posted["id"]})
    assert (await g.next("chat_deleted"))["id"] == posted["id"]
    elsewhere = await mod.call("DELETE", f"/api/matches/{match_id + 1000}/chat/{posted['id']}")
    assert elsewhere.status_code == 404  # a message is deleted only through its own match
    again = await Socket.open(server, gina.token, match_id)
    assert all(m["id"] != posted["id"] for m in again.welcome["chat"])  # gone for good
    me = g.welcome["me"]
    assert (await gina.call("POST", f"/api/users/{me}/mute", {"minutes": 5})).status_code == 403
    muted = await mod.call("POST", f"/api/users/{me}/mute", {"minutes": 5})
    assert muted.status_code == 200 and muted.json()["muted_until"]
    await g.send({"type": "chat", "text": "hello?"})
    assert (await g.next("error"))["code"] == "muted"
    # Five messages per ten seconds, then a clear error.
    for n in range(6):
        await watcher.send({"type": "chat", "text": f"m{n}"})
    assert (await watcher.next("error"))["code"] == "chat_rate_limited"
    for socket in (g, watcher, again):
        await socket.close()


async def test_closing_one_of_two_tabs_does_not_forfeit(site: Site, server: Server) -> None:
    ivy, jack = (Api(server, site.token(n)) for n in ("ivy", "jack"))
    await ivy.call("POST", "/api/queue")
    match_id = (await jack.call("POST", "/api/queue")).json()["match"]
    tab1 = await Socket.open(server, ivy.token, match_id)
    tab2 = await Socket.open(server, ivy.token, match_id)
    other = await Socket.open(server, jack.token, match_id)
    me = tab1.welcome["me"]
    await other.event("started")

    async def connected() -> bool:
        match = (await jack.call("GET", f"/api/matches/{match_id}")).json()
        return bool(next(p["connected"] for p in match["players"] if p["id"] == me))

    await tab1.close()
    await asyncio.sleep(1.0)  # the server handles a close at once; this is ample
    assert await connected()  # the other tab is still open: no grace period, no forfeit
    assert not any(e["type"] == "disconnected" for e in other.events())
    await tab2.close()  # the last one
    assert (await other.event("disconnected"))["event"]["user"] == me
    assert not await connected()
    tab3 = await Socket.open(server, ivy.token, match_id)
    assert (await other.event("reconnected"))["event"]["user"] == me
    assert [e["type"] for e in other.events()].count("disconnected") == 1
    await tab3.send({"type": "give_up"})
    await other.event("finished")
    for socket in (tab3, other):
        await socket.close()


@pytest.fixture(scope="module")
def short_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    site = Site(tmp_path_factory.mktemp("short"), env={**BATTLE_ENV, "MATCH_SECONDS": "6"})
    site.import_problems("hello-battle")
    yield site
    site.stop()


async def test_a_solve_made_before_the_deadline_wins_when_judged_after_it(
    short_site: Site,
) -> None:
    server = short_site.serve()
    kim, lee = (Api(server, short_site.token(n)) for n in ("kim", "lee"))
    await kim.call("POST", "/api/queue")
    match_id = (await lee.call("POST", "/api/queue")).json()["match"]
    mine = await Socket.open(server, kim.token, match_id)
    ends_at = (await mine.event("started"))["event"]["ends_at"]
    await asyncio.sleep(max(0.0, ends_at - time.time() - 1.0))
    # Correct but slow: its 22 tests are judged after the deadline.
    slow = "import time\ntime.sleep(0.15)\n" + SOLUTION
    submitted = await kim.submit(match_id, slow)
    waiting = (await mine.event("awaiting_verdicts"))["event"]
    assert waiting["submissions"] == [submitted] and waiting["at"] == ends_at
    late = await lee.call("POST", "/api/submissions", {"problem": "hello-battle",
                          "language": "python", "code": SOLUTION, "match": match_id})  # fmt: skip
    assert late.status_code == 409 and late.json()["error"]["code"] == "match_not_running"
    finished = (await mine.event("finished"))["event"]
    assert (finished["winner"], finished["reason"]) == (mine.welcome["me"], "solved")
    result = next(e for e in mine.events() if e["type"] == "result")
    assert result["passed"] == 22 and result["at"] > ends_at > result["made_at"]
    assert {c["reason"] for c in (await mine.event("rated"))["event"]["changes"]} == {"won", "lost"}
    await mine.close()
