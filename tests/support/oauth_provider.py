"""A small OAuth 2.0 provider on loopback that speaks GitHub's, Kakao's and Naver's shapes,
for the sign-in tests (Google's OpenID Connect is `oidc-provider-mock`'s).

Each shape lives under its own prefix (/github, /kakao, /naver) with the provider's
authorize, token and profile endpoints as their documentation describes them:

- authorize: approves at once for the subject the test chose (`provider.subject[shape]`),
  or sends the person back with error=access_denied (`provider.deny`); Naver refuses a
  request without `state`;
- token: codes are single-use and bound to client id and redirect URI; GitHub answers
  errors with HTTP 200 and {"error": "bad_verification_code"}; Kakao wants the secret in
  the form (client_secret_post) and answers a used code with 400 invalid_grant (KOE320);
  Naver wants `state` too and answers errors with HTTP 200 and {"error": ...};
- profile: GitHub /user and /user/emails, Kakao /v2/user/me, Naver /v1/nid/me (HTTP 200
  with resultcode "024" for a bad token, or whatever `provider.naver_me_error` says).

/google-wrong-keys/.well-known/openid-configuration is the discovery document of the
OpenID provider at `provider.google_url` with other signing keys. `provider.fail_token`
makes the token endpoint answer 500; `provider.slow_token` makes it wait that many seconds
first.
"""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from joserfc.jwk import KeySet, RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from tests.support.servers import free_port

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"  # noqa: S105 - a test provider's


@dataclass
class Grant:
    shape: str
    subject: str
    redirect_uri: str
    state: str | None
    used: bool = False


@dataclass
class Provider:
    """The provider's state; a test sets who signs in and what goes wrong."""

    url: str = ""
    subject: dict[str, str] = field(default_factory=dict)  # shape -> who approves
    users: dict[str, dict[str, Any]] = field(default_factory=dict)  # "shape:subject" -> JSON
    emails: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # github subject
    deny: bool = False
    fail_token: bool = False
    slow_token: float = 0.0
    naver_me_error: dict[str, Any] | None = None
    codes: dict[str, Grant] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> shape, subject
    token_requests: list[dict[str, str]] = field(default_factory=list)  # forms, secret hidden
    google_url: str = ""  # an OpenID provider whose discovery /google-wrong-keys copies
    hits: list[str] = field(default_factory=list)  # the profile endpoints' paths, as asked

    def settings(self, shape: str) -> dict[str, str]:
        """The settings that point our app at this provider's `shape`."""
        prefix = shape.upper()
        base = f"{self.url}/{shape}"
        values = {
            f"{prefix}_CLIENT_ID": CLIENT_ID,
            f"{prefix}_CLIENT_SECRET": CLIENT_SECRET,
            f"{prefix}_AUTHORIZE_URL": f"{base}/authorize",
            f"{prefix}_TOKEN_URL": f"{base}/token",
            f"{prefix}_USERINFO_URL": {
                "github": f"{base}/user",
                "kakao": f"{base}/v2/user/me",
                "naver": f"{base}/v1/nid/me",
            }[shape],
        }
        if shape == "github":
            values["GITHUB_EMAILS_URL"] = f"{base}/user/emails"
        return values

    def add_user(self, shape: str, subject: str, data: dict[str, Any]) -> None:
        """Who signs in next at `shape`, and the profile JSON the provider gives."""
        self.users[f"{shape}:{subject}"] = data
        self.subject[shape] = subject

    # -- endpoints -------------------------------------------------------------------

    async def authorize(self, request: Request) -> Response:
        shape = request.path_params["shape"]
        query = request.query_params
        redirect_uri = query.get("redirect_uri", "")
        if query.get("client_id") != CLIENT_ID or not redirect_uri:
            return PlainTextResponse("unknown client", status_code=400)
        state = query.get("state")
        back: dict[str, str] = {}
        if shape == "naver" and not state:
            back = {"error": "invalid_request", "error_description": "state is required"}
        elif self.deny:
            back = {"error": "access_denied", "error_description": "User denied access"}
        else:
            code = secrets.token_urlsafe(12)
            self.codes[code] = Grant(shape, self.subject[shape], redirect_uri, state)
            back = {"code": code}
        if state:
            back["state"] = state
        return RedirectResponse(f"{redirect_uri}?{urlencode(back)}", status_code=302)

    async def token(self, request: Request) -> Response:
        shape = request.path_params["shape"]
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(
            {k: ("***" if k == "client_secret" else v) for k, v in form.items()}
        )
        if self.slow_token:
            await asyncio.sleep(self.slow_token)
        if self.fail_token:
            return PlainTextResponse("upstream exploded", status_code=500)
        secret = form.get("client_secret")
        if form.get("client_id") != CLIENT_ID or secret != CLIENT_SECRET:
            # These three want client_secret_post: a secret in a header is not theirs.
            return self._token_error(shape, "invalid_client", "Bad client credentials", 401)
        if shape == "naver" and not form.get("state"):
            return self._token_error(shape, "invalid_request", "state is required", 400)
        grant = self.codes.get(form.get("code", ""))
        if grant is None or grant.used or grant.shape != shape:
            return self._token_error(shape, "invalid_grant", "authorization code not found", 400)
        if shape != "naver" and form.get("redirect_uri") != grant.redirect_uri:
            return self._token_error(shape, "invalid_grant", "redirect_uri mismatch", 400)
        grant.used = True
        access = secrets.token_urlsafe(16)
        self.tokens[access] = (shape, grant.subject)
        body: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if shape == "github":
            body["scope"] = "read:user,user:email"
        else:
            body.update(refresh_token=secrets.token_urlsafe(16), expires_in=21599)
        return JSONResponse(body)

    def _token_error(self, shape: str, error: str, description: str, status: int) -> Response:
        if shape == "github":  # GitHub: HTTP 200, and its own name for a bad code
            code = "bad_verification_code" if error == "invalid_grant" else error
            return JSONResponse({"error": code, "error_description": description})
        if shape == "naver":  # Naver: HTTP 200; a used code is "no valid data in session"
            text = "no valid data in session" if error == "invalid_grant" else description
            name = "invalid_request" if error == "invalid_grant" else error
            return JSONResponse({"error": name, "error_description": text})
        kakao_code = {"invalid_grant": "KOE320", "invalid_client": "KOE010"}.get(error, "KOE101")
        return JSONResponse(
            {"error": error, "error_description": description, "error_code": kakao_code},
            status_code=status,
        )

    def _bearer(self, request: Request, shape: str) -> str | None:
        self.hits.append(request.url.path)
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        found = self.tokens.get(token) if scheme.lower() == "bearer" else None
        return found[1] if found is not None and found[0] == shape else None

    async def github_user(self, request: Request) -> Response:
        subject = self._bearer(request, "github")
        if subject is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(self.users[f"github:{subject}"])

    async def github_emails(self, request: Request) -> Response:
        subject = self._bearer(request, "github")
        if subject is None:
            return JSONResponse({"message": "Bad credentials"}, status_code=401)
        return JSONResponse(self.emails.get(subject, []))

    async def kakao_me(self, request: Request) -> Response:
        subject = self._bearer(request, "kakao")
        if subject is None:
            return JSONResponse({"msg": "this access token does not exist", "code": -401}, 401)
        return JSONResponse(self.users[f"kakao:{subject}"])

    async def naver_me(self, request: Request) -> Response:
        subject = self._bearer(request, "naver")
        if subject is None:
            return JSONResponse({"resultcode": "024", "message": "Authentication failed"})
        if self.naver_me_error is not None:
            return JSONResponse(self.naver_me_error)
        return JSONResponse(self.users[f"naver:{subject}"])

    async def wrong_keys_discovery(self, request: Request) -> Response:
        """`google_url`'s discovery document with its keys swapped for others: the ID
        tokens it signs no longer check out."""
        async with httpx.AsyncClient() as client:
            found = await client.get(f"{self.google_url}/.well-known/openid-configuration")
        document = found.json()
        document["jwks_uri"] = f"{self.url}/google-wrong-keys/jwks"
        return JSONResponse(document)

    async def wrong_keys(self, request: Request) -> Response:
        key = RSAKey.generate_key(2048, parameters={"kid": "not-the-signer", "use": "sig"})
        return JSONResponse(KeySet([key]).as_dict())

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/{shape:str}/authorize", self.authorize),
                Route("/{shape:str}/token", self.token, methods=["POST"]),
                Route("/github/user", self.github_user),
                Route("/github/user/emails", self.github_emails),
                Route("/kakao/v2/user/me", self.kakao_me),
                Route("/naver/v1/nid/me", self.naver_me),
                Route(
                    "/google-wrong-keys/.well-known/openid-configuration",
                    self.wrong_keys_discovery,
                ),
                Route("/google-wrong-keys/jwks", self.wrong_keys),
            ]
        )


@contextmanager
def running_provider() -> Iterator[Provider]:
    """The provider served by uvicorn on a free loopback port, in a thread of its own."""
    provider = Provider()
    port = free_port()
    provider.url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        provider.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test OAuth provider did not start")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(10)
