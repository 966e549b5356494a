"""integrations/oauth.py against real providers on loopback, without the rest of the site:
a bare Starlette app with a session cookie that begins a flow and shows what came back."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from oidc_provider_mock import run_server_in_thread
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from codebattle.config import Settings
from codebattle.integrations.oauth import OAuthClients, OAuthFailure, endpoints
from tests.support.oauth_provider import Provider, running_provider
from tests.support.site import settings_for

APP = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def google_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def settings_with(tmp_path: Path, provider: Provider, google_url: str, **extra: Any) -> Settings:
    values: dict[str, Any] = {
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_DISCOVERY_URL": f"{google_url}/.well-known/openid-configuration",
        "OAUTH_TIMEOUT_SECONDS": 1.0,
        **provider.settings("github"),
        **provider.settings("kakao"),
        **provider.settings("naver"),
        **extra,
    }
    return settings_for(tmp_path, **values)


def bare_app(clients: OAuthClients) -> Starlette:
    async def login(request: Request) -> Response:
        name = request.path_params["name"]
        flow = {"tab": request.query_params.get("tab", "")}
        return await clients.authorize_redirect(request, name, f"{APP}/cb/{name}", flow)

    async def callback(request: Request) -> Response:
        name = request.path_params["name"]
        flow = clients.flow_of(request, name, request.query_params.get("state"))
        try:
            data = await clients.profile_data(request, name)
        except OAuthFailure as failure:
            return JSONResponse(
                {"reason": failure.reason, "detail": failure.detail, "text": str(failure)},
                status_code=failure.status,
            )
        return JSONResponse({"data": data, "flow": flow})

    return Starlette(
        routes=[Route("/login/{name}", login), Route("/cb/{name}", callback)],
        middleware=[Middleware(SessionMiddleware, secret_key="k" * 32)],
    )


@pytest.fixture
def provider_reset(provider: Provider) -> Provider:
    provider.deny = provider.fail_token = False
    provider.slow_token = 0.0
    provider.naver_me_error = None
    provider.hits.clear()
    return provider


@pytest.fixture
def client(tmp_path: Path, provider_reset: Provider, google_url: str) -> Iterator[TestClient]:
    clients = OAuthClients(settings_with(tmp_path, provider_reset, google_url))
    with TestClient(bare_app(clients), base_url=APP) as test_client:
        yield test_client


def through(client: TestClient, name: str, google_sub: str = "") -> httpx.Response:
    """login → provider (approves) → callback; the callback's answer."""
    start = client.get(f"/login/{name}", follow_redirects=False)
    assert start.status_code == 302
    where = start.headers["location"]
    answer = httpx.post(where, data={"sub": google_sub}) if google_sub else httpx.get(where)
    back = answer.headers["location"]
    return client.get(back.removeprefix(APP))


def test_only_providers_with_id_and_secret_are_registered(
    tmp_path: Path, provider: Provider, google_url: str
) -> None:
    settings = settings_with(tmp_path, provider, google_url, KAKAO_CLIENT_SECRET=None)
    assert OAuthClients(settings).offered == ["google", "github", "naver"]
    assert endpoints(settings, "github").emails == f"{provider.url}/github/user/emails"
    assert endpoints(settings, "google").discovery == settings.GOOGLE_DISCOVERY_URL


def test_google_gives_the_checked_id_token_claims(client: TestClient, google_url: str) -> None:
    claims = {"email": "hana@example.com", "email_verified": True, "name": "Hana"}
    httpx.put(f"{google_url}/users/g-1", json=claims).raise_for_status()
    start = client.get("/login/google", follow_redirects=False)
    query = parse_qs(urlsplit(start.headers["location"]).query)
    assert query["scope"] == ["openid email profile"] and query["nonce"] and query["state"]
    answer = through(client, "google", google_sub="g-1")
    assert answer.status_code == 200
    data = answer.json()["data"]
    assert data["sub"] == "g-1" and data["email"] == "hana@example.com"
    assert "google-client" in data["aud"] and data["iss"] == google_url


def test_github_asks_for_emails_only_when_the_address_is_private(
    client: TestClient, provider: Provider
) -> None:
    provider.add_user("github", "7", {"id": 7, "login": "seven", "email": None})
    provider.emails["7"] = [{"email": "s@example.com", "primary": True, "verified": True}]
    data = through(client, "github").json()["data"]
    assert data["emails"] == provider.emails["7"]
    assert provider.hits == ["/github/user", "/github/user/emails"]
    provider.hits.clear()
    provider.add_user("github", "8", {"id": 8, "login": "eight", "email": "e@example.com"})
    data = through(client, "github").json()["data"]
    assert data == {"user": provider.users["github:8"], "emails": None}
    assert provider.hits == ["/github/user"]


def test_kakao_profile_and_its_secret_in_the_form(client: TestClient, provider: Provider) -> None:
    me = {"id": 99, "kakao_account": {"age_range": "20~29", "email": "k@kakao.com"}}
    provider.add_user("kakao", "99", me)
    assert through(client, "kakao").json()["data"] == me
    form = provider.token_requests[-1]
    assert form["client_secret"] == "***" and form["client_id"] == "test-client"


def test_naver_sends_state_and_its_200_errors_fail(client: TestClient, provider: Provider) -> None:
    me = {"resultcode": "00", "message": "success", "response": {"id": "n1"}}
    provider.add_user("naver", "n1", me)
    assert through(client, "naver").json()["data"] == me
    assert provider.token_requests[-1]["state"]
    provider.naver_me_error = {"resultcode": "024", "message": "Authentication failed"}
    failed = through(client, "naver")
    assert failed.status_code == 502
    assert failed.json()["reason"] == "provider_error" and "024" in failed.json()["detail"]


@pytest.mark.parametrize("name", ["github", "kakao", "naver"])
def test_a_used_code_is_code_used_and_names_no_secret(
    client: TestClient, provider: Provider, name: str
) -> None:
    provider.add_user(name, "5", {"id": 5, "resultcode": "00", "response": {"id": "5"}})
    start = client.get(f"/login/{name}", follow_redirects=False)
    back = httpx.get(start.headers["location"]).headers["location"]
    assert client.get(back.removeprefix(APP)).status_code == 200
    code = parse_qs(urlsplit(back).query)["code"][0]
    again = client.get(f"/login/{name}", follow_redirects=False)
    state = parse_qs(urlsplit(again.headers["location"]).query)["state"][0]
    failed = client.get(f"/cb/{name}?code={code}&state={state}")
    assert failed.status_code == 400 and failed.json()["reason"] == "code_used"
    assert code not in failed.text and "test-secret" not in failed.text


def test_timeouts_500s_and_refusals(client: TestClient, provider: Provider) -> None:
    provider.add_user("kakao", "6", {"id": 6})
    provider.slow_token = 2.0
    failed = through(client, "kakao")
    assert (failed.status_code, failed.json()["reason"], failed.json()["detail"]) == (
        502,
        "unavailable",
        "timeout",
    )
    provider.slow_token = 0.0
    provider.fail_token = True
    failed = through(client, "kakao")
    assert failed.json() == {
        "reason": "unavailable",
        "detail": "http_500",
        "text": "unavailable: http_500",
    }
    provider.fail_token = False
    provider.deny = True
    failed = through(client, "kakao")
    assert (failed.status_code, failed.json()["reason"]) == (400, "cancelled")
    provider.deny = False
    assert client.get("/cb/kakao?error=server_error").json()["reason"] == "provider_error"
    assert client.get("/cb/kakao?code=x&state=nobody-began").json()["reason"] == "state"


def test_flows_are_kept_per_state_so_two_tabs_both_finish(
    client: TestClient, google_url: str
) -> None:
    """Google (Authlib checks the state and the ID token's nonce): two flows begun in
    two tabs both finish, each with its own data; neither can be replayed."""
    claims = {"email": "tabs@example.com", "email_verified": True}
    httpx.put(f"{google_url}/users/g-tabs", json=claims).raise_for_status()
    first = client.get("/login/google?tab=one", follow_redirects=False).headers["location"]
    second = client.get("/login/google?tab=two", follow_redirects=False).headers["location"]
    backs = [httpx.post(url, data={"sub": "g-tabs"}).headers["location"] for url in (first, second)]
    for back, tab in zip(backs, ["one", "two"], strict=True):
        answer = client.get(back.removeprefix(APP))
        assert answer.status_code == 200, answer.text
        assert answer.json()["flow"] == {"tab": tab}
        assert answer.json()["data"]["sub"] == "g-tabs"
    for back in backs:  # used up
        assert client.get(back.removeprefix(APP)).json()["reason"] == "state"


def test_only_a_few_flows_are_kept_and_the_cookie_stays_small(
    client: TestClient, provider: Provider
) -> None:
    provider.add_user("kakao", "41", {"id": 41})
    started = [
        client.get(f"/login/kakao?tab={i}", follow_redirects=False).headers["location"]
        for i in range(12)
    ]
    assert len(client.cookies["session"]) < 3000
    backs = [httpx.get(url).headers["location"] for url in (started[0], started[-5])]
    assert client.get(backs[0].removeprefix(APP)).json()["reason"] == "state"  # dropped
    kept = client.get(backs[1].removeprefix(APP))  # the oldest of the five kept
    assert kept.status_code == 200 and kept.json()["flow"] == {"tab": "7"}
