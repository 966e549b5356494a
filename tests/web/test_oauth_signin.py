"""Sign-in with Google, GitHub, Kakao and Naver through real providers on loopback: Google
is `oidc-provider-mock` (OpenID Connect, ID tokens checked against its keys), the others
the project's provider in their shapes (tests/support/oauth_provider.py). The browser's
part is played by following each redirect by hand: our login → the provider's authorize
(approves at once) → our callback."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from oidc_provider_mock import run_server_in_thread
from sqlalchemy import select

from codebattle.accounts.models import Identity, User
from codebattle.app import create_app
from codebattle.config import Settings
from codebattle.services import Services
from codebattle.web.sessions import pending
from tests.support.oauth_provider import Provider, running_provider
from tests.support.site import csrf_of, settings_for, sign_in

SHAPES = ["google", "github", "kakao", "naver"]
APP = "http://testserver"


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    with running_provider() as running:
        yield running


@pytest.fixture(scope="module")
def google_url() -> Iterator[str]:
    with run_server_in_thread() as server:
        yield f"http://localhost:{server.server_port}"


def provider_settings(provider: Provider, google_url: str) -> dict[str, Any]:
    values: dict[str, Any] = {
        "GOOGLE_CLIENT_ID": "google-client",
        "GOOGLE_CLIENT_SECRET": "google-secret",
        "GOOGLE_DISCOVERY_URL": f"{google_url}/.well-known/openid-configuration",
        # Long enough for a loaded CI machine (1 s tripped there), short for the slow test.
        "OAUTH_TIMEOUT_SECONDS": 4.0,
        "BASE_URL": APP,
    }
    for shape in ("github", "kakao", "naver"):
        values.update(provider.settings(shape))
    return values


def site_settings(tmp_path: Path, database_url: str, **values: Any) -> Settings:
    return settings_for(tmp_path, DATABASE_URL=database_url.replace("+aiosqlite", ""), **values)


def client_for(settings: Settings) -> Iterator[TestClient]:
    app = create_app(settings, Services.from_settings(settings))

    @app.get("/_test/pending")
    async def show_pending(request: Request) -> dict[str, Any]:  # what /welcome will read
        return {"pending": await pending(request)}

    with TestClient(app, base_url=APP, headers={"accept-language": "en"}) as test_client:
        yield test_client


@pytest.fixture
def settings(
    tmp_path: Path, sqlite_url: str, provider: Provider, google_url: str
) -> Iterator[Settings]:
    provider.deny = provider.fail_token = False
    provider.slow_token = 0.0
    provider.naver_me_error = None
    yield site_settings(tmp_path, sqlite_url, **provider_settings(provider, google_url))


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    yield from client_for(settings)


# -- people at each provider -----------------------------------------------------------


def person(provider: Provider, google_url: str, shape: str, **kw: Any) -> str:
    """A new person at `shape` (who approves next); returns the subject."""
    subject = str(kw.pop("subject", uuid.uuid4().int % 10**9))
    email = kw.pop("email", f"p{subject}@example.com")
    name = kw.pop("name", f"Person {subject}")
    if shape == "google":
        claims = {"email": email, "email_verified": kw.pop("verified", True), "name": name}
        httpx.put(f"{google_url}/users/{subject}", json=claims).raise_for_status()
    elif shape == "github":
        provider.add_user(
            "github",
            subject,
            {"id": int(subject), "login": f"gh{subject}", "name": name, "email": None,
             "avatar_url": f"https://avatars.example/{subject}"},
        )  # fmt: skip
        provider.emails[subject] = [
            {"email": f"old{subject}@example.com", "primary": False, "verified": True},
            {"email": email, "primary": True, "verified": kw.pop("verified", True)},
        ]
    elif shape == "kakao":
        provider.add_user(
            "kakao",
            subject,
            {"id": int(subject), "connected_at": "2026-01-01T00:00:00Z",
             "kakao_account": {
                 "profile": {"nickname": name, "is_default_image": True},
                 "has_email": True, "is_email_valid": True,
                 "is_email_verified": kw.pop("verified", True), "email": email,
                 "has_age_range": True, "age_range": kw.pop("age_range", "15~19"),
             }},
        )  # fmt: skip
    else:
        provider.add_user(
            "naver",
            subject,
            {"resultcode": "00", "message": "success",
             "response": {"id": subject, "nickname": name, "email": email, "age": "20-29",
                          "birthyear": kw.pop("birthyear", "1990")}},
        )  # fmt: skip
    return subject


def approve(google_subject: dict[str, str]) -> Callable[[str], httpx.Response]:
    """What the person does on the provider's page: nothing for ours (it approves at
    once); on oidc-provider-mock's, submit the subject."""

    def go(url: str) -> httpx.Response:
        if "/oauth2/authorize" in url:
            return httpx.post(url, data={"sub": google_subject["google"]})
        return httpx.get(url)

    return go


class Browser:
    """Follows our redirects to the provider and back, as a browser does."""

    def __init__(self, client: TestClient, provider: Provider, google_url: str) -> None:
        self.client = client
        self.provider = provider
        self.google_url = google_url
        self.google_subject: dict[str, str] = {}
        self.last_callback = ""

    def new_person(self, shape: str, **kw: Any) -> str:
        subject = person(self.provider, self.google_url, shape, **kw)
        if shape == "google":
            self.google_subject["google"] = subject
        return subject

    def to_provider(self, shape: str, next: str = "/problems", link: bool = False) -> str:
        """Start the flow; returns the provider's authorize URL."""
        if link:
            started = self.client.post(
                f"/settings/identities/{shape}/link",
                data={"csrf_token": csrf_of(self.client)},
                follow_redirects=False,
            )
        else:
            started = self.client.get(f"/auth/{shape}/login?next={next}", follow_redirects=False)
        assert started.status_code == 302, started.text
        return started.headers["location"]

    def at_provider(self, authorize_url: str) -> str:
        """The provider's answer: the callback URL it sends the browser to."""
        answer = approve(self.google_subject)(authorize_url)
        assert answer.status_code in (302, 303), answer.text
        back = answer.headers["location"]
        assert back.startswith(f"{APP}/auth/"), back
        return back

    def back(self, callback_url: str) -> httpx.Response:
        self.last_callback = callback_url
        return self.client.get(callback_url.removeprefix(APP), follow_redirects=False)

    def sign_in(self, shape: str, next: str = "/problems", link: bool = False) -> httpx.Response:
        return self.back(self.at_provider(self.to_provider(shape, next, link)))


@pytest.fixture
def browser(client: TestClient, provider: Provider, google_url: str) -> Browser:
    return Browser(client, provider, google_url)


# -- the database ---------------------------------------------------------------------


def run(client: TestClient, fn: Callable[..., Any], *args: Any) -> Any:
    """Run `fn(session, *args)` in the app's event loop, on its database."""
    services: Services = client.app.state.services  # type: ignore[attr-defined]

    async def go() -> Any:
        async with services.db.session() as session:
            return await fn(session, *args)

    return client.portal.call(go)  # type: ignore[union-attr]


async def _add_user(session: Any, nickname: str, ways: list[tuple[str, str]], email: str) -> int:
    now = datetime.now(UTC)
    user = User(
        nickname=nickname,
        locale="ko",
        email=email,
        email_verified=True,
        age_band="adult",
        birth_year=1990,
        onboarded_at=now,
        terms_accepted_at=now,
    )
    for provider, subject in ways:
        user.identities.append(Identity(provider=provider, subject=subject))
    session.add(user)
    await session.commit()
    return int(user.id)


def add_user(
    client: TestClient, ways: list[tuple[str, str]], email: str | None = None
) -> tuple[int, str]:
    nickname = "u" + uuid.uuid4().hex[:8]
    return run(client, _add_user, nickname, ways, email or f"{nickname}@example.com"), nickname


async def _identities(session: Any, user_id: int) -> list[tuple[str, str]]:
    rows = await session.scalars(select(Identity).where(Identity.user_id == user_id))
    return sorted((i.provider, i.subject) for i in rows)


async def _count_users(session: Any) -> int:
    return len(list(await session.scalars(select(User.id))))


def me(client: TestClient) -> dict[str, Any] | None:
    """Who this browser is signed in as: id and nickname (None: nobody)."""
    answer = client.get("/api/me")
    if answer.status_code != 200:
        return None
    return {"id": answer.json()["id"], "nickname": answer.json()["nickname"]}


def sign_out(client: TestClient) -> None:
    client.post("/signout", data={"csrf_token": csrf_of(client)})


def notice_of(page: httpx.Response) -> tuple[str, str] | None:
    """The settings page's sign-in methods notice: its role and its text."""
    found = re.search(r'id="identity-notice" role="(\w+)">(.*?)</p>', page.text, re.S)
    if found is None:
        return None
    return found.group(1), html.unescape(" ".join(found.group(2).split()))


def choose_korean(client: TestClient) -> None:
    chosen = client.post(
        "/lang", data={"lang": "ko", "csrf_token": csrf_of(client)}, follow_redirects=False
    )
    assert chosen.status_code == 303


def error_of(page: httpx.Response) -> str:
    found = re.search(r'id="auth-error"[^>]*>([^<]+)<', page.text)
    assert found is not None, page.text
    return html.unescape(found.group(1))


# -- signing in -------------------------------------------------------------------------


def test_signin_page_offers_each_configured_provider(client: TestClient) -> None:
    page = client.get("/signin", headers={"accept-language": "ko"})
    for shape, text in [
        ("google", "Google로 로그인"),
        ("github", "GitHub로 로그인"),
        ("kakao", "Kakao로 로그인"),
        ("naver", "네이버로 로그인"),
    ]:
        assert re.search(rf'id="signin-{shape}"\s+href="/auth/{shape}/login\?next=', page.text)
        assert text in page.text
    english = client.get("/signin", headers={"accept-language": "en"})
    assert "Sign in with Google" in english.text and "Sign in with Naver" in english.text


@pytest.mark.parametrize("shape", SHAPES)
def test_first_sign_in_lands_on_welcome_with_the_profile(
    browser: Browser, client: TestClient, shape: str
) -> None:
    subject = browser.new_person(shape, email=f"first-{shape}@example.com", name="김하늘")
    answer = browser.sign_in(shape, next="/play")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/welcome"
    kept = client.get("/_test/pending").json()["pending"]
    assert kept["via"] == shape and kept["next"] == "/play"
    profile = kept["profile"]
    assert profile["provider"] == shape and profile["subject"] == subject
    assert profile["email"] == f"first-{shape}@example.com"
    assert profile["display_name"] == "김하늘"
    assert profile["email_verified"] is (shape != "naver")  # naver: only @naver.com counts
    assert profile["age_band"] == {"kakao": "under19", "naver": "adult"}.get(shape)
    assert profile["birth_year"] == (1990 if shape == "naver" else None)
    assert me(client) is None  # not signed in until the welcome page is done
    assert run(client, _count_users) == 0


@pytest.mark.parametrize("shape", SHAPES)
def test_a_known_identity_signs_in(browser: Browser, client: TestClient, shape: str) -> None:
    subject = browser.new_person(shape)
    user_id, nickname = add_user(client, [(shape, subject)])
    answer = browser.sign_in(shape, next="/rooms")
    assert answer.status_code == 303 and answer.headers["location"] == "/rooms"
    assert me(client) == {"id": user_id, "nickname": nickname}
    assert client.get("/_test/pending").json()["pending"] is None
    # The code and state were used up: the same callback again is refused, not a sign-in.
    sign_out(client)
    again = browser.back(browser.last_callback)
    assert again.status_code == 400 and me(client) is None


def test_next_is_kept_on_the_site(browser: Browser, client: TestClient) -> None:
    subject = browser.new_person("kakao")
    add_user(client, [("kakao", subject)])
    answer = browser.sign_in("kakao", next="//evil.example/x")
    assert answer.headers["location"] == "/problems"


def test_kakao_and_naver_send_their_secret_in_the_form_and_naver_the_state(
    browser: Browser, provider: Provider
) -> None:
    for shape in ("kakao", "naver", "github"):
        browser.new_person(shape)
        assert browser.sign_in(shape).status_code == 303
        form = provider.token_requests[-1]
        assert form["client_secret"] == "***" and form["client_id"] == "test-client"
        assert form["grant_type"] == "authorization_code"
        if shape == "naver":
            assert form["state"]


def test_unknown_or_unconfigured_provider_is_not_found(
    tmp_path: Path, sqlite_url: str, provider: Provider, google_url: str
) -> None:
    values = provider_settings(provider, google_url)
    del values["NAVER_CLIENT_SECRET"]
    for test_client in client_for(site_settings(tmp_path, sqlite_url, **values)):
        assert test_client.get("/auth/facebook/login").status_code == 404
        assert test_client.get("/auth/naver/login").status_code == 404
        assert test_client.get("/auth/naver/callback?code=x&state=y").status_code == 404
        page = test_client.get("/signin")
        assert 'id="signin-kakao"' in page.text and 'id="signin-naver"' not in page.text


# -- linking ------------------------------------------------------------------------------


def test_link_then_sign_in_with_it_then_unlink(browser: Browser, client: TestClient) -> None:
    sign_in(client, "linker")
    user = me(client)
    assert user is not None
    subject = browser.new_person("github")
    linked = browser.sign_in("github", link=True)
    assert linked.status_code == 303
    assert linked.headers["location"] == (
        "/settings?notice=identity_linked_notice&provider=github#sign-in-methods"
    )
    assert run(client, _identities, user["id"]) == [
        ("github", subject), ("nickname", "linker")
    ]  # fmt: skip
    page = client.get(linked.headers["location"], headers={"accept-language": "en"})
    assert 'id="identity-github" data-linked="yes"' in page.text
    assert 'id="identity-kakao" data-linked="no"' in page.text
    assert notice_of(page) == ("status", "GitHub is now linked: you can sign in with it.")
    assert notice_of(client.get("/settings")) is None  # only right after the link
    # Signed out, GitHub now signs in as the same account.
    sign_out(client)
    assert browser.sign_in("github").headers["location"] == "/problems"
    assert me(client) == user
    unlinked = client.post(
        "/settings/identities/github/unlink",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert unlinked.status_code == 303
    assert unlinked.headers["location"] == (
        "/settings?notice=identity_unlinked_notice&provider=github#sign-in-methods"
    )
    assert run(client, _identities, user["id"]) == [("nickname", "linker")]
    choose_korean(client)
    page = client.get(unlinked.headers["location"])
    assert notice_of(page) == ("status", "GitHub 계정 연결을 해제했습니다.")


def test_the_last_way_to_sign_in_is_never_unlinked(browser: Browser, client: TestClient) -> None:
    subject = browser.new_person("kakao")
    user_id, _ = add_user(client, [("kakao", subject)])
    browser.sign_in("kakao")
    page = client.get("/settings")  # in Korean: the account's language became the cookie's
    assert re.search(r'id="unlink-kakao"\s+disabled', page.text)
    assert "유일한 로그인 방법은 연결을 해제할 수 없습니다." in page.text
    refused = client.post("/settings/identities/kakao/unlink", data={"csrf_token": csrf_of(client)})
    assert refused.status_code == 409
    assert "Kakao는 유일한 로그인 방법입니다" in refused.text
    assert run(client, _identities, user_id) == [("kakao", subject)]
    # With Naver linked, Kakao can go.
    naver = browser.new_person("naver")
    assert browser.sign_in("naver", link=True).status_code == 303
    gone = client.post(
        "/settings/identities/kakao/unlink",
        data={"csrf_token": csrf_of(client)},
        follow_redirects=False,
    )
    assert gone.status_code == 303
    assert run(client, _identities, user_id) == [("naver", naver)]


def test_unlink_checks_csrf_and_needs_a_signed_in_user(client: TestClient) -> None:
    assert client.post("/settings/identities/kakao/unlink", data={}).status_code == 403
    sign_in(client, "nocsrf")
    refused = client.post("/settings/identities/kakao/unlink", data={"csrf_token": "wrong"})
    assert refused.status_code == 403
    link = client.post("/settings/identities/kakao/link", data={"csrf_token": "wrong"})
    assert link.status_code == 403


def test_an_identity_of_another_account_is_not_linked(browser: Browser, client: TestClient) -> None:
    subject = browser.new_person("naver")
    owner, _ = add_user(client, [("naver", subject)])
    sign_in(client, "second")
    user = me(client)
    assert user is not None
    refused = browser.sign_in("naver", link=True)
    # Back to the settings page (not the sign-in failure page), told why, still signed in.
    assert refused.status_code == 303
    assert refused.headers["location"] == (
        "/settings?notice=identity_taken&provider=naver#sign-in-methods"
    )
    page = client.get(refused.headers["location"], headers={"accept-language": "en"})
    assert page.status_code == 200 and 'id="auth-error"' not in page.text
    role, text = notice_of(page) or ("", "")
    assert role == "alert"
    assert text.startswith("Naver was not linked. That Naver account is already linked")
    choose_korean(client)
    korean = client.get(refused.headers["location"])
    assert (notice_of(korean) or ("", ""))[1].startswith("Naver 계정을 연결하지 못했습니다.")
    assert me(client) == user
    assert run(client, _identities, owner) == [("naver", subject)]
    assert run(client, _identities, user["id"]) == [("nickname", "second")]


def test_a_link_cancelled_at_the_provider_goes_back_to_settings(
    browser: Browser, client: TestClient, provider: Provider
) -> None:
    sign_in(client, "changed")
    user = me(client)
    browser.new_person("kakao")
    provider.deny = True
    back = browser.sign_in("kakao", link=True)
    assert back.status_code == 303
    assert back.headers["location"] == (
        "/settings?notice=auth_error_cancelled&provider=kakao#sign-in-methods"
    )
    page = client.get(back.headers["location"], headers={"accept-language": "en"})
    role, text = notice_of(page) or ("", "")
    assert role == "alert" and text.startswith("Kakao was not linked. You cancelled")
    assert me(client) == user


def test_the_settings_page_shows_only_notices_it_knows(client: TestClient) -> None:
    sign_in(client, "notices")
    for query in (
        "notice=sign_in_required&provider=kakao",  # a key, but not a notice
        "notice=identity_taken&provider=facebook",  # not a provider
        "notice=identity_taken",
    ):
        page = client.get(f"/settings?{query}")
        assert page.status_code == 200 and notice_of(page) is None, query
    assert client.get("/settings").headers["cache-control"] == "no-store"


def test_a_verified_email_of_another_account_offers_that_account_and_merges_nothing(
    browser: Browser, client: TestClient
) -> None:
    github = browser.new_person("github")
    owner, _ = add_user(client, [("github", github)], email="Ana@Example.com")
    browser.new_person("google", email="ana@example.com")
    offer = browser.sign_in("google")
    assert offer.status_code == 409
    assert 'id="email-match"' in offer.text
    assert re.search(
        r'id="match-signin-github"\s+href="/auth/github/login\?next=/settings"', offer.text
    )
    assert me(client) is None
    assert client.get("/_test/pending").json()["pending"] is None
    assert run(client, _identities, owner) == [("github", github)]
    assert run(client, _count_users) == 1


def test_an_unverified_email_matches_nothing(browser: Browser, client: TestClient) -> None:
    add_user(client, [("github", "1")], email="bo@example.com")
    browser.new_person("kakao", email="bo@example.com", verified=False)
    answer = browser.sign_in("kakao")
    assert answer.headers["location"] == "/welcome"


# -- what goes wrong ------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
def test_cancelled_consent_is_a_clear_page(
    browser: Browser, client: TestClient, provider: Provider, shape: str
) -> None:
    browser.new_person(shape)
    authorize = browser.to_provider(shape)
    if shape == "google":  # oidc-provider-mock's Deny button
        answer = httpx.post(authorize, data={"action": "deny"})
        back = answer.headers["location"]
    else:
        provider.deny = True
        back = browser.at_provider(authorize)
    assert "error=access_denied" in back
    page = client.get(back.removeprefix(APP), headers={"accept-language": "en"})
    assert page.status_code == 400
    assert "You cancelled on the provider's page" in error_of(page)
    assert f'href="/auth/{shape}/login?next=%2Fproblems"' in page.text  # try again
    assert me(client) is None


def test_a_bad_or_missing_state_is_refused(browser: Browser, client: TestClient) -> None:
    browser.new_person("kakao")
    back = browser.at_provider(browser.to_provider("kakao"))
    code = parse_qs(urlsplit(back).query)["code"][0]
    for query in (f"code={code}&state=forged", f"code={code}"):
        page = client.get(f"/auth/kakao/callback?{query}", headers={"accept-language": "ko"})
        assert page.status_code == 400
        assert "로그인 링크가 만료되었거나" in error_of(page)
    # Another browser (without this one's cookie) cannot finish its flow either.
    cookies = dict(client.cookies)
    client.cookies.clear()
    assert client.get(back.removeprefix(APP)).status_code == 400
    client.cookies.update(cookies)
    assert browser.back(back).status_code == 303  # while this one still can


@pytest.mark.parametrize("shape", ["github", "kakao", "naver", "google"])
def test_a_code_used_twice_is_refused(browser: Browser, client: TestClient, shape: str) -> None:
    browser.new_person(shape)
    first = browser.at_provider(browser.to_provider(shape))
    assert browser.back(first).status_code == 303
    used_code = parse_qs(urlsplit(first).query)["code"][0]
    # A new flow, so the state is good, with the old code.
    second = browser.at_provider(browser.to_provider(shape))
    state = parse_qs(urlsplit(second).query)["state"][0]
    page = client.get(
        f"/auth/{shape}/callback?code={used_code}&state={state}",
        headers={"accept-language": "en"},
    )
    assert page.status_code == 400
    assert "already completed or has expired" in error_of(page)


def test_a_provider_failing_or_too_slow_is_a_502_page(
    browser: Browser, client: TestClient, provider: Provider
) -> None:
    browser.new_person("github")
    provider.fail_token = True
    page = browser.sign_in("github")
    assert page.status_code == 502 and "did not answer" in error_of(page)
    provider.fail_token = False
    provider.slow_token = 6.0  # OAUTH_TIMEOUT_SECONDS is 4
    page = browser.sign_in("github")
    assert page.status_code == 502 and "did not answer" in error_of(page)
    assert me(client) is None


def test_a_provider_that_is_down_is_a_502_page(
    tmp_path: Path, sqlite_url: str, provider: Provider, google_url: str
) -> None:
    values = provider_settings(provider, google_url)
    values["GOOGLE_DISCOVERY_URL"] = "http://127.0.0.1:9/.well-known/openid-configuration"
    for test_client in client_for(site_settings(tmp_path, sqlite_url, **values)):
        page = test_client.get("/auth/google/login", headers={"accept-language": "en"})
        assert page.status_code == 502
        assert "did not answer" in error_of(page)


def test_naver_errors_inside_http_200_are_caught(
    browser: Browser, client: TestClient, provider: Provider
) -> None:
    browser.new_person("naver")
    provider.naver_me_error = {"resultcode": "028", "message": "Authentication header not exists"}
    page = browser.sign_in("naver")
    assert page.status_code == 502 and "refused" in error_of(page)
    assert me(client) is None


def test_an_id_token_signed_by_another_key_is_refused(
    tmp_path: Path, sqlite_url: str, provider: Provider, google_url: str
) -> None:
    provider.google_url = google_url
    values = provider_settings(provider, google_url)
    values["GOOGLE_DISCOVERY_URL"] = (
        f"{provider.url}/google-wrong-keys/.well-known/openid-configuration"
    )
    for test_client in client_for(site_settings(tmp_path, sqlite_url, **values)):
        browser = Browser(test_client, provider, google_url)
        browser.new_person("google")
        page = browser.sign_in("google")
        assert page.status_code == 502
        assert "could not be verified" in error_of(page)
        assert me(test_client) is None


def reset(provider: Provider) -> None:
    provider.deny = provider.fail_token = False
    provider.slow_token = 0.0
    provider.naver_me_error = None


@pytest.mark.parametrize("shape", SHAPES)
def test_each_provider_signs_in_on_postgresql(
    tmp_path: Path, pg_url: str, provider: Provider, google_url: str, shape: str
) -> None:
    reset(provider)
    settings = site_settings(tmp_path, pg_url, **provider_settings(provider, google_url))
    for test_client in client_for(settings):
        browser = Browser(test_client, provider, google_url)
        # A first sign-in: /welcome, with the provider's profile pending.
        subject = browser.new_person(shape, email=f"pg-{shape}@example.com")
        first = browser.sign_in(shape, next="/play")
        assert first.status_code == 303 and first.headers["location"] == "/welcome"
        kept = test_client.get("/_test/pending").json()["pending"]
        assert kept["via"] == shape and kept["next"] == "/play"
        assert kept["profile"]["provider"] == shape and kept["profile"]["subject"] == subject
        assert kept["profile"]["email"] == f"pg-{shape}@example.com"
        assert me(test_client) is None and run(test_client, _count_users) == 0
        # A known identity signs in.
        known = browser.new_person(shape)
        user_id, nickname = add_user(test_client, [(shape, known)])
        answer = browser.sign_in(shape, next="/rooms")
        assert answer.status_code == 303 and answer.headers["location"] == "/rooms"
        assert me(test_client) == {"id": user_id, "nickname": nickname}


def test_linking_on_postgresql(
    tmp_path: Path, pg_url: str, provider: Provider, google_url: str
) -> None:
    reset(provider)
    settings = site_settings(tmp_path, pg_url, **provider_settings(provider, google_url))
    for test_client in client_for(settings):
        browser = Browser(test_client, provider, google_url)
        kakao = browser.new_person("kakao")
        user_id, _ = add_user(test_client, [("kakao", kakao)])
        assert browser.sign_in("kakao").headers["location"] == "/problems"
        google = browser.new_person("google")
        assert browser.sign_in("google", link=True).status_code == 303
        assert run(test_client, _identities, user_id) == [("google", google), ("kakao", kakao)]


# -- flows in several tabs, and too many of them ------------------------------------------


def test_a_sign_in_begun_in_another_tab_leaves_a_link_in_progress_a_link(
    browser: Browser, client: TestClient
) -> None:
    sign_in(client, "tabs")
    user = me(client)
    assert user is not None
    subject = browser.new_person("github")
    link_tab = browser.to_provider("github", link=True)
    # Another tab (or another site's GET) starts a sign-in with the same provider.
    browser.to_provider("github", next="/rooms")
    assert me(client) == user  # starting a flow signs nobody out
    linked = browser.back(browser.at_provider(link_tab))
    assert linked.status_code == 303 and linked.headers["location"].startswith("/settings")
    assert me(client) == user
    assert run(client, _identities, user["id"]) == [("github", subject), ("nickname", "tabs")]
    assert client.get("/_test/pending").json()["pending"] is None


def test_a_failed_sign_in_callback_leaves_the_person_signed_in(
    browser: Browser, client: TestClient, provider: Provider
) -> None:
    sign_in(client, "staying")
    user = me(client)
    browser.new_person("kakao")
    provider.deny = True
    back = browser.at_provider(browser.to_provider("kakao"))
    assert browser.back(back).status_code == 400
    assert me(client) == user


def test_only_the_newest_flows_are_kept(browser: Browser, client: TestClient) -> None:
    browser.new_person("kakao")
    started = [browser.to_provider("kakao") for _ in range(6)]  # MAX_FLOWS is 5
    assert browser.back(browser.at_provider(started[0])).status_code == 400  # dropped
    second = browser.back(browser.at_provider(started[1]))  # not the newest, still kept
    assert second.status_code == 303 and second.headers["location"] == "/welcome"


def refused_within(client: TestClient, path: str, passing: int, lang: str = "en") -> httpx.Response:
    """Asks for `path` until the rate limit answers. The limit is 30 a minute in fixed
    windows: 61 requests cross at most one window's edge, so one window sees 31 of them."""
    for _ in range(61):
        answer = client.get(path, headers={"accept-language": lang}, follow_redirects=False)
        if answer.status_code == 429:
            return answer
        assert answer.status_code == passing
    raise AssertionError(f"{path} was never limited")


def test_starting_sign_ins_and_callbacks_are_rate_limited(client: TestClient) -> None:
    page = refused_within(client, "/auth/kakao/login", 302)
    assert int(page.headers["retry-after"]) >= 1
    assert "Too many sign-in attempts" in error_of(page)
    korean = refused_within(client, "/auth/kakao/login", 302, lang="ko")
    assert "로그인 시도가 너무 많습니다" in error_of(korean)
    # Callbacks count on their own: the first is judged (a bad state), not limited.
    assert client.get("/auth/kakao/callback?code=x&state=y").status_code == 400
    limited = refused_within(client, "/auth/kakao/callback?code=x&state=y", 400)
    assert "Too many sign-in attempts" in error_of(limited)
