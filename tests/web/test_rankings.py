"""The ranking pages and their JSON (web/routes/rankings.py): this season's table with my
rank and the five above and below me, the language filter, placement players apart; past
seasons' final tables from the archive only (404 for a season without one); the all-time
table; bad query values are 4xx, never 500."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle.accounts.models import User
from codebattle.progress import seasons
from codebattle.progress.models import PlayerRating, Season, SeasonRating
from codebattle.progress.seasons import SeasonRules
from codebattle.rewards import season_end, shop
from codebattle.rewards.models import OwnedItem
from codebattle.services import Services
from tests.support.factories import make_match, make_problem_version, make_user
from tests.support.site import sign_in

N = 20  # ranked players p00 (lowest) .. p19 (highest)


def run(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            result = await fn(session, services, *args)
            await session.commit()
            return result

    return client.portal.call(go)  # type: ignore[union-attr]


async def _seed(session: AsyncSession, services: Services) -> dict[str, int]:
    rules = SeasonRules.of(services.settings)
    season = await seasons.current(session, datetime.now(UTC), rules)
    ids = {}
    for i in range(N):
        user = await make_user(session, f"p{i:02d}")
        ids[user.nickname] = user.id
        lang = "cpp" if i % 2 else "python"
        session.add(
            SeasonRating(
                season_id=season.id,
                user_id=user.id,
                mu=25.0,
                sigma=5.0,
                display=1000 + 60 * i,
                games=5,
                languages={lang: 5},
            )  # fmt: skip
        )
        session.add(
            PlayerRating(user_id=user.id, mu=25.0, sigma=5.0, display=900 + 70 * i, games=9)
        )
    for name in ("newcomer", "rookie"):
        user = await make_user(session, name)
        ids[name] = user.id
        session.add(
            SeasonRating(
                season_id=season.id,
                user_id=user.id,
                mu=25.0,
                sigma=8.0,
                display=2900,
                games=1,
                languages={"java": 1},
            )  # fmt: skip
        )
    return ids


def test_this_seasons_table_my_rank_and_the_players_around_me(client: TestClient) -> None:
    ids = run(client, _seed)
    anonymous = client.get("/rankings")
    assert anonymous.status_code == 200 and 'id="ranking-table"' in anonymous.text
    assert 'id="my-rank"' not in anonymous.text and 'id="nav-rankings"' in anonymous.text
    data = client.get("/api/rankings").json()
    assert data["season"]["number"] == 1 and data["total"] == N
    assert [x["nickname"] for x in data["lines"][:3]] == ["p19", "p18", "p17"]
    assert data["lines"][0]["rank"] == 1 and data["lines"][0]["tier"] == "grandmaster"
    assert {x["nickname"] for x in data["placement"]} == {"newcomer", "rookie"}  # apart
    assert data["mine"] is None

    sign_in(client, "p10")  # rank 10 of 20
    mine = client.get("/api/rankings").json()
    assert mine["mine"]["rank"] == 10 and mine["mine"]["user_id"] == ids["p10"]
    assert [x["rank"] for x in mine["around"]] == list(range(5, 16))
    page = client.get("/rankings")
    assert page.status_code == 200 and 'id="my-rank"' in page.text
    assert 'id="around-me"' in page.text and 'class="me"' in page.text
    assert 'id="placement-table"' in page.text and "newcomer" in page.text
    assert (
        'aria-label="Tier: Grandmaster"' in page.text
        or 'aria-label="티어: 그랜드마스터"' in page.text
    )


def test_the_language_filter_and_paging(client: TestClient) -> None:
    run(client, _seed)
    cpp = client.get("/api/rankings", params={"language": "cpp"}).json()
    assert cpp["total"] == N // 2 and all(int(x["nickname"][1:]) % 2 for x in cpp["lines"])
    assert [x["rank"] for x in cpp["lines"]] == list(range(1, N // 2 + 1))
    java = client.get("/api/rankings", params={"language": "java"}).json()
    assert java["total"] == 0 and len(java["placement"]) == 2
    assert client.get("/api/rankings", params={"language": ""}).json()["total"] == N
    page = client.get("/rankings", params={"language": "cpp"})
    assert page.status_code == 200 and '<option value="cpp" selected>' in page.text
    assert client.get("/api/rankings", params={"page": 2}).json()["lines"] == []


def test_bad_query_values_are_4xx(client: TestClient) -> None:
    run(client, _seed)
    for path in ("/rankings", "/api/rankings"):
        for params in ({"page": "0"}, {"page": "abc"}, {"page": "²"}, {"page": "99999999999"},
                       {"language": "cobol"}):  # fmt: skip
            reply = client.get(path, params=params)
            assert reply.status_code == 422, (path, params, reply.status_code)
    for path in ("/rankings/seasons/99", "/rankings/seasons/abc", "/rankings/seasons/0",
                 "/api/rankings/seasons/1", "/rankings/seasons/99999999999999"):  # fmt: skip
        assert client.get(path).status_code == 404, path  # season 1 is not over: no table


async def _end_season(session: AsyncSession, services: Services) -> None:
    await session.commit()
    season = await seasons.current(session, datetime.now(UTC), services.settings)
    await session.commit()
    await season_end.run_once(
        services.db, services.settings, season.ends_at + season_end.SETTLE_GRACE
    )


async def _raise(session: AsyncSession, services: Services, nickname: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    row = await session.scalar(select(SeasonRating).where(SeasonRating.user_id == user.id))
    assert row is not None
    row.display = 5000


def test_a_past_seasons_final_table_is_read_from_the_archive(client: TestClient) -> None:
    run(client, _seed)
    run(client, _end_season)
    run(client, _raise, "p00")  # after the end: the archived table does not move
    past = client.get("/api/rankings/seasons/1").json()
    assert past["season"]["archived"] is True and past["total"] == N
    assert past["lines"][0]["nickname"] == "p19" and past["lines"][-1]["nickname"] == "p00"
    assert 1 in past["past"]
    sign_in(client, "p00")
    page = client.get("/rankings/seasons/1", params={"language": "python"})
    assert page.status_code == 200 and 'id="my-rank"' in page.text
    assert "rookie" not in page.text  # placement players are not in a final table
    mine = client.get("/api/rankings/seasons/1", params={"language": "python"}).json()
    assert mine["mine"]["rank"] == 20  # the stored rank, not re-ranked by the filter
    profile = client.get("/users/p00")  # the badge: the final tier and rank
    assert profile.status_code == 200 and 'id="season-badges"' in profile.text
    assert 'href="/rankings/seasons/1"' in profile.text and 'id="profile-tier"' in profile.text
    assert client.get("/api/users/p19").json()["seasons"] == [
        {"season": 1, "tier": "grandmaster", "rank": 1}
    ]


async def _past_seasons(session: AsyncSession, services: Services, count: int) -> None:
    """`count` seasons of 30 days, all over and archived, the last ending now."""
    now, month = datetime.now(UTC), timedelta(days=30)
    for n in range(1, count + 1):
        ends = now - (count - n) * month
        session.add(Season(number=n, starts_at=ends - month, ends_at=ends, archived_at=ends))


def test_every_past_season_is_reachable_beyond_the_tabs(client: TestClient) -> None:
    run(client, _past_seasons, 11)
    page = client.get("/rankings")
    assert page.status_code == 200
    tabs = page.text.split('id="rank-tabs"')[1].split("</ul>")[0]
    assert tabs.count('href="/rankings/seasons/') == 8  # the eight newest: 11..4
    assert 'href="/rankings/seasons/4"' in tabs and 'href="/rankings/seasons/3"' not in tabs
    listed = page.text.split('id="rank-past-list"')[1].split("</ul>")[0]
    for n in range(1, 12):
        assert f'href="/rankings/seasons/{n}"' in listed, n
    assert 'aria-labelledby="rank-past-title"' in page.text
    assert "<details" in page.text and 'id="rank-past" open' not in page.text
    oldest = client.get("/rankings/seasons/1")  # the list's link leads to its table
    assert oldest.status_code == 200
    assert 'id="rank-past" open' in oldest.text  # shown opened: the season is not a tab
    assert 'href="/rankings/seasons/1" aria-current="page"' in oldest.text
    assert client.get("/api/rankings").json()["past"] == list(range(11, 0, -1))


def test_no_past_seasons_list_while_the_tabs_hold_them_all(client: TestClient) -> None:
    run(client, _past_seasons, 8)
    page = client.get("/rankings/all-time")
    assert page.status_code == 200 and page.text.count('href="/rankings/seasons/') == 8
    assert 'id="rank-past"' not in page.text


def test_the_all_time_table(client: TestClient) -> None:
    run(client, _seed)
    data = client.get("/api/rankings/all-time").json()
    assert data["total"] == N and data["lines"][0]["display"] == 900 + 70 * (N - 1)
    page = client.get("/rankings/all-time")
    assert page.status_code == 200 and 'aria-current="page"' in page.text


async def _duel(session: AsyncSession, services: Services) -> int:
    version = await make_problem_version(session, services.blobs, "hello-battle")
    ann, bob = await make_user(session, "annie"), await make_user(session, "bobby")
    session.add(PlayerRating(user_id=bob.id, mu=40.0, sigma=3.0, display=2240, games=30))
    return int((await make_match(session, version, [ann, bob])).id)


def test_the_arena_and_the_lobby_name_each_players_tier(client: TestClient) -> None:
    match_id = run(client, _duel)
    sign_in(client, "annie")
    arena = client.get(f"/matches/{match_id}")
    assert arena.status_code == 200
    assert arena.text.count('class="tier-label"') == 2
    assert "Grandmaster" in arena.text or "그랜드마스터" in arena.text
    lobby = client.get("/play")
    assert lobby.status_code == 200 and 'class="tier-label"' in lobby.text


async def _wear(session: AsyncSession, services: Services, nickname: str) -> None:
    user = await session.scalar(select(User).where(User.nickname == nickname))
    assert user is not None
    session.add(OwnedItem(user_id=user.id, item="avatar_fox"))
    session.add(OwnedItem(user_id=user.id, item="name_ocean"))
    await session.flush()
    await shop.equip(session, user, "avatar", "avatar_fox")
    await shop.equip(session, user, "name_color", "name_ocean")


def test_the_arena_shows_what_each_player_wears(client: TestClient) -> None:
    match_id = run(client, _duel)
    run(client, _wear, "bobby")
    sign_in(client, "annie")
    arena = client.get(f"/matches/{match_id}").text
    assert arena.count('class="player-avatar"') == 1
    assert 'src="/static/shop/avatar_fox.svg"' in arena
    colour = shop.item("name_ocean").color
    assert f'style="color: {colour}">bobby</strong>' in arena
