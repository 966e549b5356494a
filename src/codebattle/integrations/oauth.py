"""Sign-in providers over OAuth 2.0 / OpenID Connect: Authlib's Starlette client for Google,
GitHub, Kakao and Naver, and every HTTP call made to them.

`OAuthClients` is built once per app from the settings (only the providers with an id and a
secret). It sends a browser to a provider (`authorize_redirect`) and, on the way back,
turns the code into the provider's profile JSON (`profile_data`): Google's ID token claims
(checked against the keys from its discovery document), GitHub's /user with /user/emails,
Kakao's /v2/user/me, Naver's /v1/nid/me. Turning that JSON into our profile is
accounts/providers' job.

Every failure becomes an `OAuthFailure` with a short reason ("cancelled", "state",
"code_used", "unavailable", ...) and a detail that is safe to log (the provider's error
code or an HTTP status): never a token, a code or a secret.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import structlog
from joserfc.errors import JoseError
from starlette.requests import Request
from starlette.responses import Response

from codebattle.config import Settings

with warnings.catch_warnings():  # Authlib's httpx integration warns about itself on import
    import authlib.deprecate  # type: ignore[import-untyped]  # noqa: F401 - sets its filter first

    warnings.simplefilter("ignore")
    from authlib.common.errors import AuthlibBaseError  # type: ignore[import-untyped]
    from authlib.integrations.base_client.errors import (  # type: ignore[import-untyped]
        MismatchingStateError,
    )
    from authlib.integrations.starlette_client import (  # type: ignore[import-untyped]
        OAuth,
        OAuthError,
    )
    from authlib.integrations.starlette_client.apps import (  # type: ignore[import-untyped]
        StarletteOAuth2App,
    )

log = structlog.get_logger(__name__)

# What we ask each provider for. Kakao's and Naver's items (email, age range, birth year)
# are chosen in their developer consoles, not by scope (docs/accounts.md).
SCOPES = {
    "google": "openid email profile",
    "github": "read:user user:email",
}
# The token endpoint's client authentication: Google takes HTTP Basic; GitHub, Kakao and
# Naver the id and secret in the form (client_secret_post).
SECRET_POST = ("github", "kakao", "naver")
# Token endpoint errors that mean the code was already used (or has expired).
CODE_USED = {"invalid_grant", "bad_verification_code"}

FLOWS = "oauth_flows"  # session key: {state: the flow begun with it}, oldest first
MAX_FLOWS = 5  # flows kept at once (tabs)

# Why a sign-in failed, and the HTTP status of its page.
STATUS = {
    "cancelled": 400,  # the person declined on the provider's page
    "state": 400,  # missing, replayed or foreign `state`: not the flow this browser began
    "code_used": 400,  # the code was used already (a reload of the callback)
    "provider_error": 502,  # the provider refused for another reason
    "unavailable": 502,  # the provider did not answer, timed out or failed (5xx)
    "id_token": 502,  # Google's ID token did not check out
    "bad_profile": 502,  # the profile is not what the provider documents
}


class OAuthFailure(Exception):
    """A sign-in that cannot go on. `reason` is a key of STATUS; `detail` is short and safe
    to log (an error code or status, never a token)."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail[:120]

    @property
    def status(self) -> int:
        return STATUS.get(self.reason, 502)


@dataclass(frozen=True)
class Endpoints:
    """Where a provider lives (all settings; Google's unset ones come from discovery)."""

    authorize: str | None
    token: str | None
    userinfo: str | None
    emails: str | None = None  # GitHub only
    discovery: str | None = None  # Google only


def endpoints(settings: Settings, provider: str) -> Endpoints:
    if provider == "google":
        return Endpoints(
            settings.GOOGLE_AUTHORIZE_URL,
            settings.GOOGLE_TOKEN_URL,
            settings.GOOGLE_USERINFO_URL,
            discovery=settings.GOOGLE_DISCOVERY_URL,
        )
    prefix = provider.upper()
    return Endpoints(
        getattr(settings, f"{prefix}_AUTHORIZE_URL"),
        getattr(settings, f"{prefix}_TOKEN_URL"),
        getattr(settings, f"{prefix}_USERINFO_URL"),
        emails=settings.GITHUB_EMAILS_URL if provider == "github" else None,
    )


class OAuthClients:
    """The Authlib client registry of one app: one client per offered provider."""

    def __init__(self, settings: Settings) -> None:
        self.offered = list(settings.oauth_providers)
        self.timeout = settings.OAUTH_TIMEOUT_SECONDS
        self._oauth = OAuth()
        self._endpoints: dict[str, Endpoints] = {}
        for provider in self.offered:
            where = endpoints(settings, provider)
            self._endpoints[provider] = where
            secret = getattr(settings, f"{provider.upper()}_CLIENT_SECRET")
            client_kwargs: dict[str, Any] = {"timeout": self.timeout}
            if provider in SCOPES:
                client_kwargs["scope"] = SCOPES[provider]
            if provider in SECRET_POST:
                client_kwargs["token_endpoint_auth_method"] = "client_secret_post"  # noqa: S105
            self._oauth.register(
                provider,
                client_id=getattr(settings, f"{provider.upper()}_CLIENT_ID"),
                client_secret=secret.get_secret_value(),
                authorize_url=where.authorize,
                access_token_url=where.token,
                server_metadata_url=where.discovery,
                client_kwargs=client_kwargs,
            )

    def _client(self, provider: str) -> StarletteOAuth2App:
        client = self._oauth.create_client(provider) if provider in self.offered else None
        if client is None:
            raise KeyError(provider)
        return client

    async def authorize_redirect(
        self,
        request: Request,
        provider: str,
        redirect_uri: str,
        flow: Mapping[str, Any] | None = None,
    ) -> Response:
        """The redirect to the provider's consent page. The flow's `state` (and Google's
        nonce, PKCE verifier) are kept in the browser's session until the callback, with
        `flow` (what the caller wants back then: `flow_of`), per state: a second flow, even
        with the same provider in another tab, leaves the first one whole. Authlib itself
        keeps one state per provider; we keep a copy of each for its callback. At most
        MAX_FLOWS flows are kept; an older one's callback is refused as "state"."""
        client = self._client(provider)
        try:
            response: Response = await client.authorize_redirect(request, redirect_uri)
        except httpx.HTTPError as exc:  # Google's discovery document did not come
            raise _unavailable(exc) from None
        except ValueError as exc:  # a discovery document that is not JSON
            raise OAuthFailure("unavailable", type(exc).__name__) from None
        found = parse_qs(urlsplit(response.headers.get("location", "")).query).get("state")
        if not found:
            raise OAuthFailure("provider_error", "no state")
        state = found[0]
        saved = request.session.get(_authlib_key(provider, state))
        if isinstance(saved, dict) and isinstance(saved.get("data"), dict):
            # The authorize URL is not needed again: the cookie stays small.
            saved = {**saved, "data": {k: v for k, v in saved["data"].items() if k != "url"}}
        flows = _flows(request)
        flows[state] = {"provider": provider, "flow": dict(flow or {}), "authlib": saved}
        while len(flows) > MAX_FLOWS:  # the oldest goes
            flows.pop(next(iter(flows)))
        request.session[FLOWS] = flows
        return response

    def flow_of(self, request: Request, provider: str, state: str | None) -> dict[str, Any] | None:
        """The `flow` given to `authorize_redirect` for this state and provider, if kept."""
        kept = _flows(request).get(state) if state else None
        if not isinstance(kept, dict) or kept.get("provider") != provider:
            return None
        flow = kept.get("flow")
        return flow if isinstance(flow, dict) else None

    def _restore(self, request: Request, provider: str, state: str | None) -> None:
        """Put back Authlib's data of this state (another flow with the provider since
        replaced it)."""
        kept = _flows(request).get(state) if state else None
        if isinstance(kept, dict) and kept.get("provider") == provider:
            saved = kept.get("authlib")
            key = _authlib_key(provider, str(state))
            if isinstance(saved, dict) and key not in request.session:
                request.session[key] = saved

    def _drop(self, request: Request, state: str | None) -> None:
        flows = _flows(request)
        if state and flows.pop(state, None) is not None:
            request.session[FLOWS] = flows

    async def profile_data(self, request: Request, provider: str) -> dict[str, Any]:
        """On the callback: check `state`, trade the code for a token, and fetch the
        provider's profile JSON. Raises OAuthFailure."""
        state = request.query_params.get("state")
        self._restore(request, provider, state)
        try:
            data = await self._profile_data(request, provider)
        except OAuthFailure as failure:
            if failure.reason != "state":  # a forged callback leaves the real flow alone
                self._drop(request, state)
            raise
        self._drop(request, state)
        return data

    async def _profile_data(self, request: Request, provider: str) -> dict[str, Any]:
        client = self._client(provider)
        error = request.query_params.get("error")
        if error:  # the provider sent the person back without a code
            state = request.query_params.get("state")
            if state:
                await client.framework.clear_state_data(request.session, state)
            if error == "access_denied":
                raise OAuthFailure("cancelled", error)
            raise OAuthFailure("provider_error", error[:40])
        extra: dict[str, Any] = {}
        if provider == "naver":  # Naver wants the state again at the token endpoint
            extra["body"] = urlencode({"state": request.query_params.get("state", "")})
        try:
            token = await client.authorize_access_token(request, **extra)
            if provider == "google":
                return await self._google(client, token)
            if provider == "github":
                return await self._github(client, token)
            if provider == "naver":
                return await self._naver(client, token)
            me = await self._get_json(client, self._endpoints[provider].userinfo, token)
            if not isinstance(me, dict):
                raise OAuthFailure("bad_profile", "not an object")
            return me
        except MismatchingStateError:
            raise OAuthFailure("state") from None
        except OAuthError as exc:
            code = str(exc.error or "")
            if code in CODE_USED or (provider == "naver" and code == "invalid_request"):
                raise OAuthFailure("code_used", code) from None
            raise OAuthFailure("provider_error", code[:40]) from None
        except JoseError as exc:
            raise OAuthFailure("id_token", type(exc).__name__) from None
        except httpx.HTTPError as exc:
            raise _unavailable(exc) from None
        except AuthlibBaseError as exc:  # e.g. no code in the callback
            raise OAuthFailure("provider_error", str(exc.error or "")[:40]) from None
        except ValueError as exc:  # an answer that is not JSON
            raise OAuthFailure("unavailable", type(exc).__name__) from None

    async def _get_json(
        self,
        client: StarletteOAuth2App,
        url: str | None,
        token: Mapping[str, Any],
        headers: dict[str, str] | None = None,
    ) -> Any:
        if not url:
            raise OAuthFailure("provider_error", "no userinfo endpoint")
        response: httpx.Response = await client.get(url, token=dict(token), headers=headers)
        if response.status_code >= 500:
            raise OAuthFailure("unavailable", f"http_{response.status_code}")
        try:
            data = response.json()
        except ValueError:
            raise OAuthFailure("unavailable", f"http_{response.status_code}_not_json") from None
        if response.status_code >= 400:
            code = data.get("resultcode") or data.get("error") if isinstance(data, dict) else ""
            raise OAuthFailure("provider_error", f"http_{response.status_code} {code or ''}")
        return data

    async def _google(self, client: StarletteOAuth2App, token: Mapping[str, Any]) -> dict[str, Any]:
        """The ID token's claims (Authlib checked its signature against the provider's keys,
        its issuer, audience, expiry and nonce); the userinfo endpoint fills in an email the
        token lacks."""
        claims = token.get("userinfo")
        if "id_token" not in token or not isinstance(claims, Mapping):
            raise OAuthFailure("id_token", "missing")
        data = dict(claims)
        if not data.get("email"):
            metadata = await client.load_server_metadata()
            url = self._endpoints["google"].userinfo or metadata.get("userinfo_endpoint")
            if url:
                extra = await self._get_json(client, url, token)
                if isinstance(extra, dict) and extra.get("sub") == data.get("sub"):
                    data.update({k: v for k, v in extra.items() if k not in data})
        return data

    async def _github(self, client: StarletteOAuth2App, token: Mapping[str, Any]) -> dict[str, Any]:
        """/user, and /user/emails when /user has no public address (a private one): the
        normaliser picks the primary verified address."""
        accept = {"Accept": "application/vnd.github+json"}
        user = await self._get_json(client, self._endpoints["github"].userinfo, token, accept)
        if not isinstance(user, dict):
            raise OAuthFailure("bad_profile", "user")
        if user.get("email"):
            return {"user": user, "emails": None}
        emails = await self._get_json(client, self._endpoints["github"].emails, token, accept)
        return {"user": user, "emails": emails if isinstance(emails, list) else []}

    async def _naver(self, client: StarletteOAuth2App, token: Mapping[str, Any]) -> dict[str, Any]:
        """Naver answers errors with HTTP 200 too: resultcode "00" is the only success."""
        me = await self._get_json(client, self._endpoints["naver"].userinfo, token)
        if not isinstance(me, dict):
            raise OAuthFailure("bad_profile", "not an object")
        if me.get("resultcode") != "00" or "error" in me:
            code = me.get("resultcode") or me.get("error") or "?"
            raise OAuthFailure("provider_error", f"naver {str(code)[:20]}")
        return me


def _flows(request: Request) -> dict[str, Any]:
    kept = request.session.get(FLOWS)
    return dict(kept) if isinstance(kept, dict) else {}


def _authlib_key(provider: str, state: str) -> str:
    return f"_state_{provider}_{state}"  # Authlib's session key of a flow's data


def _unavailable(exc: httpx.HTTPError) -> OAuthFailure:
    if isinstance(exc, httpx.TimeoutException):
        return OAuthFailure("unavailable", "timeout")
    if isinstance(exc, httpx.HTTPStatusError):
        return OAuthFailure("unavailable", f"http_{exc.response.status_code}")
    return OAuthFailure("unavailable", type(exc).__name__)
