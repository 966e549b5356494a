"""The payment provider: a thin client to PortOne's V2 REST API, and webhook verification.

Only what our plans use: read a payment, charge a billing key, cancel (refund) a payment,
read, issue and delete billing keys. Requests carry `Authorization: PortOne <API secret>`;
answers are read field by field (status, amount, currency, customer, billing key) and the rest is
ignored, so a field or an enum value PortOne adds never breaks a payment (decision 0018
says why this is not the SDK's generated client). Every failure becomes a
`PaymentProviderError` with a short `kind` that is safe to log and show; the secret
appears in no message, log line or repr.

Without PortOne settings, outside production, the base URL is this site's own fake
(`integrations/fake_portone.py`, served under BASE_URL/fake-portone) with a fixed secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import structlog

from codebattle.config import Settings
from codebattle.integrations.http import tls

log = structlog.get_logger(__name__)

# The fake provider's credentials (integrations/fake_portone.py): public on purpose, they
# open nothing but the fake, which exists only outside production.
FAKE_API_SECRET = "fake-portone-api-secret"  # noqa: S105 - the fake's, by design
FAKE_WEBHOOK_SECRET = "whsec_Y29kZWJhdHRsZS1mYWtlLXBvcnRvbmUtd2ViaG9vaw=="  # noqa: S105
FAKE_STORE_ID = "store-fake-codebattle"
FAKE_CHANNEL_KEY = "channel-key-fake-card"
FAKE_PATH = "/fake-portone"

TIMEOUT_SECONDS = 15.0


class PaymentProviderError(Exception):
    """A call to the provider failed. `kind` is short and safe to log and show:
    "unauthorized", "not_found", "already_paid", "already_cancelled", "not_paid",
    "billing_key_not_found", "rejected" (the card company said no), "invalid_request",
    "unreachable", "bad_response", or "http_<status>"."""

    def __init__(self, kind: str, message: str = "") -> None:
        super().__init__(f"{kind}: {message}" if message else kind)
        self.kind = kind
        self.message = message[:200]


# PortOne's error types (the `type` of an error body) and our kinds.
_KINDS = {
    "UNAUTHORIZED": "unauthorized",
    "FORBIDDEN": "unauthorized",
    "PAYMENT_NOT_FOUND": "not_found",
    "ALREADY_PAID": "already_paid",
    "PAYMENT_ALREADY_CANCELLED": "already_cancelled",
    "PAYMENT_NOT_PAID": "not_paid",
    "BILLING_KEY_NOT_FOUND": "billing_key_not_found",
    "BILLING_KEY_ALREADY_DELETED": "billing_key_not_found",
    "PG_PROVIDER": "rejected",
    "INVALID_REQUEST": "invalid_request",
}


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider has it. `status`: "READY", "PAY_PENDING", "PAID",
    "FAILED", "CANCELLED", "PARTIAL_CANCELLED", "VIRTUAL_ACCOUNT_ISSUED"."""

    id: str
    status: str
    amount: int  # the total, in the currency's unit (KRW: won)
    currency: str
    customer_id: str | None = None
    billing_key: str | None = None
    failure: str | None = None


@dataclass(frozen=True)
class ProviderBillingKey:
    billing_key: str
    status: str  # "ISSUED" | "DELETED"
    customer_id: str | None = None


class PortOne:
    """PortOne V2 REST API at `base_url`. Each call opens a short-lived HTTP client, so an
    instance may be shared by event loops (tests) and needs no closing."""

    def __init__(
        self,
        secret: str,
        base_url: str = "https://api.portone.io",
        store_id: str | None = None,
        channel_key: str | None = None,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if not secret:
            raise ValueError("secret is empty")
        self._secret = secret
        self.base_url = base_url.rstrip("/")
        self.store_id = store_id
        self.channel_key = channel_key
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"PortOne(base_url={self.base_url!r})"

    async def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        params = (
            {"storeId": self.store_id} if method in ("GET", "DELETE") and self.store_id else None
        )
        if body is not None and self.store_id:
            body = {"storeId": self.store_id, **body}
        try:
            async with httpx.AsyncClient(timeout=self.timeout, verify=tls()) as http:
                response = await http.request(
                    method,
                    self.base_url + path,
                    params=params,
                    json=body,
                    headers={"Authorization": f"PortOne {self._secret}"},
                )
        except httpx.HTTPError as exc:
            log.warning("portone unreachable", path=path.split("/")[1], error=type(exc).__name__)
            raise PaymentProviderError("unreachable", type(exc).__name__) from None
        try:
            data = response.json()
        except ValueError:
            data = None
        if response.status_code != 200:
            error_type = data.get("type") if isinstance(data, dict) else None
            kind = _KINDS.get(str(error_type), f"http_{response.status_code}")
            message = data.get("message") if isinstance(data, dict) else None
            raise PaymentProviderError(kind, str(message or ""))
        if not isinstance(data, dict):
            raise PaymentProviderError("bad_response", "not a JSON object")
        return data

    async def get_payment(self, payment_id: str) -> ProviderPayment:
        data = await self._call("GET", f"/payments/{quote(payment_id, safe='')}")
        return _payment(data)

    async def pay_with_billing_key(
        self,
        payment_id: str,
        *,
        billing_key: str,
        order_name: str,
        amount: int,
        currency: str,
        customer_id: str,
    ) -> None:
        """Charge `billing_key`. PortOne takes a payment id once: a second charge of the
        same id is refused with "already_paid" (what makes a retried charge safe)."""
        body: dict[str, Any] = {
            "billingKey": billing_key,
            "orderName": order_name,
            "amount": {"total": amount},
            "currency": currency,
            "customer": {"id": customer_id},
        }
        if self.channel_key:
            body["channelKey"] = self.channel_key
        await self._call("POST", f"/payments/{quote(payment_id, safe='')}/billing-key", body)

    async def cancel_payment(self, payment_id: str, *, reason: str) -> None:
        """Cancel (refund) the whole payment."""
        await self._call(
            "POST", f"/payments/{quote(payment_id, safe='')}/cancel", {"reason": reason[:200]}
        )

    async def get_billing_key(self, billing_key: str) -> ProviderBillingKey:
        data = await self._call("GET", f"/billing-keys/{quote(billing_key, safe='')}")
        key = data.get("billingKey")
        status = data.get("status")
        if not isinstance(key, str) or not isinstance(status, str):
            raise PaymentProviderError("bad_response", "billing key without key or status")
        customer = data.get("customer")
        customer_id = customer.get("id") if isinstance(customer, dict) else None
        return ProviderBillingKey(
            key, status, customer_id if isinstance(customer_id, str) else None
        )

    async def delete_billing_key(self, billing_key: str) -> None:
        """Delete a billing key at the provider (DELETE /billing-keys/{billingKey}): it
        charges nothing more. One already deleted or unknown: "billing_key_not_found"."""
        await self._call("DELETE", f"/billing-keys/{quote(billing_key, safe='')}")

    async def issue_billing_key(
        self,
        *,
        card_number: str,
        expiry_year: str,
        expiry_month: str,
        birth_or_business_number: str,
        password_two_digits: str,
        customer_id: str,
    ) -> str:
        """Issue a billing key from card details (server-side issue; the browser flow
        issues through the payment window instead)."""
        body: dict[str, Any] = {
            "method": {
                "card": {
                    "credential": {
                        "number": card_number,
                        "expiryYear": expiry_year,
                        "expiryMonth": expiry_month,
                        "birthOrBusinessRegistrationNumber": birth_or_business_number,
                        "passwordTwoDigits": password_two_digits,
                    }
                }
            },
            "customer": {"id": customer_id},
        }
        if self.channel_key:
            body["channelKey"] = self.channel_key
        data = await self._call("POST", "/billing-keys", body)
        info = data.get("billingKeyInfo")
        key = info.get("billingKey") if isinstance(info, dict) else None
        if not isinstance(key, str):
            raise PaymentProviderError("bad_response", "no billing key")
        return key


def _payment(data: Mapping[str, Any]) -> ProviderPayment:
    payment_id, status = data.get("id"), data.get("status")
    amount = data.get("amount")
    total = amount.get("total") if isinstance(amount, dict) else None
    currency = data.get("currency")
    if not (
        isinstance(payment_id, str)
        and isinstance(status, str)
        and isinstance(total, int)
        and isinstance(currency, str)
    ):
        raise PaymentProviderError("bad_response", "payment without id, status or amount")
    customer = data.get("customer")
    customer_id = customer.get("id") if isinstance(customer, dict) else None
    failure = data.get("failure")
    reason = (
        failure.get("reason") or failure.get("pgMessage") if isinstance(failure, dict) else None
    )
    billing_key = data.get("billingKey")
    return ProviderPayment(
        id=payment_id,
        status=status,
        amount=total,
        currency=currency,
        customer_id=customer_id if isinstance(customer_id, str) else None,
        billing_key=billing_key if isinstance(billing_key, str) else None,
        failure=str(reason)[:200] if reason else None,
    )


# The site's provider --------------------------------------------------------------------


def checkout_available(settings: Settings) -> bool:
    """Whether payments can be taken: the fake outside production without a secret, or
    PortOne with its secret, store and channel."""
    if settings.fake_payments:
        return True
    return bool(
        settings.PORTONE_API_SECRET and settings.PORTONE_STORE_ID and settings.PORTONE_CHANNEL_KEY
    )


def client_for(settings: Settings) -> PortOne | None:
    """The provider this site uses, or None when checkout is closed (production without
    PortOne settings)."""
    if settings.fake_payments:
        return PortOne(
            FAKE_API_SECRET,
            settings.BASE_URL + FAKE_PATH,
            store_id=FAKE_STORE_ID,
            channel_key=FAKE_CHANNEL_KEY,
        )
    if not checkout_available(settings) or settings.PORTONE_API_SECRET is None:
        return None
    return PortOne(
        settings.PORTONE_API_SECRET.get_secret_value(),
        settings.PORTONE_API_URL,
        store_id=settings.PORTONE_STORE_ID,
        channel_key=settings.PORTONE_CHANNEL_KEY,
    )


@dataclass(frozen=True)
class BrowserSettings:
    """What the checkout page hands the browser SDK."""

    sdk_url: str
    store_id: str
    channel_key: str


def browser_settings(settings: Settings) -> BrowserSettings | None:
    if settings.fake_payments:
        return BrowserSettings(
            settings.BASE_URL + FAKE_PATH + "/browser-sdk.js", FAKE_STORE_ID, FAKE_CHANNEL_KEY
        )
    if not checkout_available(settings):
        return None
    assert settings.PORTONE_STORE_ID is not None and settings.PORTONE_CHANNEL_KEY is not None
    return BrowserSettings(
        settings.PORTONE_SDK_URL, settings.PORTONE_STORE_ID, settings.PORTONE_CHANNEL_KEY
    )


def webhook_secret(settings: Settings) -> str | None:
    """The secret webhooks are signed with (the fake's when there is none and the fake
    takes the payments)."""
    if settings.PORTONE_WEBHOOK_SECRET is not None:
        return settings.PORTONE_WEBHOOK_SECRET.get_secret_value()
    return FAKE_WEBHOOK_SECRET if settings.fake_payments else None


class WebhookRejected(Exception):
    """A webhook whose signature (or timestamp) does not verify; `reason` is PortOne's."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def verify_webhook(secret: str, payload: str, headers: Mapping[str, str]) -> dict[str, Any]:
    """Check a webhook's Standard Webhooks signature (webhook-id, webhook-timestamp within
    five minutes, webhook-signature: HMAC-SHA256) with PortOne's own verifier; return the
    body. Raises WebhookRejected."""
    import json

    from portone_server_sdk import webhook  # a second to import: only when one comes

    lowered = {name.lower(): value for name, value in headers.items()}
    try:
        webhook.verify(secret, payload, lowered)
    except webhook.WebhookVerificationError as exc:
        raise WebhookRejected(str(exc.reason)) from None
    except webhook.InvalidInputError:
        raise WebhookRejected("INVALID_SECRET") from None
    except ValueError:  # a body that is not JSON
        raise WebhookRejected("INVALID_BODY") from None
    body = json.loads(payload)
    if not isinstance(body, dict):
        raise WebhookRejected("INVALID_BODY")
    return body
