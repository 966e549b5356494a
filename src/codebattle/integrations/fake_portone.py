"""A fake PortOne V2: the part of its REST API and browser SDK that our plans use, on the
same paths, with the same JSON shapes and auth header (`Authorization: PortOne <secret>`).

Outside production without a PortOne secret the app serves it under /fake-portone, so the
embedded default takes (pretend) payments end to end; tests serve it on loopback. State is
in memory.

REST: GET /payments/{id}, POST /payments/{id}/billing-key (charge; a payment id is taken
once: ALREADY_PAID), POST /payments/{id}/cancel, POST /billing-keys (issue from a card), GET
/billing-keys/{key}, DELETE /billing-keys/{key} (a deleted key charges nothing; a second
delete: BILLING_KEY_ALREADY_DELETED). Browser: /browser-sdk.js defines
`PortOne.requestIssueBillingKey`, which goes to this fake's payment window (/window, Korean
or English, "pay" and "cancel") and back to the request's redirectUrl with the query the
real SDK's redirect mode adds (transactionType, billingKey; code and message on failure).
After a charge or a cancel it sends a signed webhook (Standard Webhooks, HMAC-SHA256) to
`webhook_url`.

The test cards: any number is accepted, except one ending in 0002, which is issued a
billing key whose charges the card company refuses (PG_PROVIDER).
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import json
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from codebattle.config import Settings
from codebattle.integrations.portone import (
    FAKE_API_SECRET,
    FAKE_PATH,
    FAKE_STORE_ID,
    FAKE_WEBHOOK_SECRET,
)

log = structlog.get_logger(__name__)

DECLINED_CARD_SUFFIX = "0002"
TEST_CARD = "4242-4242-4242-4242"
MERCHANT_ID = "merchant-fake-codebattle"
WEBHOOK_ATTEMPTS = 3


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def sign_webhook(secret: str, message_id: str, timestamp: str, payload: str) -> str:
    """A Standard Webhooks signature header value ("v1,<base64 HMAC-SHA256>") of
    `message_id.timestamp.payload` with the base64 secret (an optional whsec_ prefix)."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.digest(key, f"{message_id}.{timestamp}.{payload}".encode(), "sha256")
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secret: str, payload: str, at: float | None = None) -> dict[str, str]:
    """The three webhook headers for `payload`."""
    message_id = "msg_" + secrets.token_hex(12)
    timestamp = str(int(time.time() if at is None else at))
    return {
        "webhook-id": message_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": sign_webhook(secret, message_id, timestamp, payload),
        "content-type": "application/json",
    }


@dataclass
class FakeBillingKey:
    key: str
    customer_id: str | None
    declines: bool
    issued_at: str = field(default_factory=_now)
    deleted: bool = False

    def json(self, store_id: str) -> dict[str, Any]:
        return {
            "status": "DELETED" if self.deleted else "ISSUED",
            "billingKey": self.key,
            "merchantId": MERCHANT_ID,
            "storeId": store_id,
            "methods": [{"type": "BillingKeyPaymentMethodCard"}],
            "channels": [_channel()],
            "customer": {"id": self.customer_id} if self.customer_id else {},
            "issuedAt": self.issued_at,
        }


@dataclass
class FakePayment:
    id: str
    status: str  # "PAID" | "FAILED" | "CANCELLED"
    amount: int
    currency: str
    order_name: str
    customer_id: str | None
    billing_key: str
    transaction_id: str = field(default_factory=lambda: "tx-" + secrets.token_hex(8))
    requested_at: str = field(default_factory=_now)
    status_changed_at: str = field(default_factory=_now)
    failure: str | None = None
    cancel_reason: str | None = None
    charges: int = 1  # charges accepted for this id (one, by the rule above)

    def json(self, store_id: str) -> dict[str, Any]:
        cancelled = self.amount if self.status == "CANCELLED" else 0
        body: dict[str, Any] = {
            "status": self.status,
            "id": self.id,
            "transactionId": self.transaction_id,
            "merchantId": MERCHANT_ID,
            "storeId": store_id,
            "method": {"type": "PaymentMethodCard"},
            "channel": _channel(),
            "version": "V2",
            "requestedAt": self.requested_at,
            "updatedAt": self.status_changed_at,
            "statusChangedAt": self.status_changed_at,
            "orderName": self.order_name,
            "amount": {
                "total": self.amount,
                "taxFree": 0,
                "discount": 0,
                "paid": 0 if self.status == "FAILED" else self.amount,
                "cancelled": cancelled,
                "cancelledTaxFree": 0,
            },
            "currency": self.currency,
            "customer": {"id": self.customer_id} if self.customer_id else {},
            "origin": {"platformType": "API", "ipAddress": "127.0.0.1"},
            "billingKey": self.billing_key,
        }
        if self.status in ("PAID", "CANCELLED"):
            body["paidAt"] = self.requested_at
            body["pgTxId"] = self.transaction_id
            body["disputes"] = []
        if self.status == "FAILED":
            body["failedAt"] = self.status_changed_at
            body["failure"] = {"reason": self.failure or "declined", "pgCode": "DECLINED"}
        if self.status == "CANCELLED":
            body["cancelledAt"] = self.status_changed_at
            body["cancellations"] = [_cancellation(self)]
        return body


def _channel() -> dict[str, Any]:
    return {
        "type": "TEST",
        "id": "channel-fake",
        "key": "channel-key-fake-card",
        "name": "fake card",
        "pgProvider": "TOSSPAYMENTS",
        "pgMerchantId": "fake",
    }


def _cancellation(payment: FakePayment) -> dict[str, Any]:
    return {
        "status": "SUCCEEDED",
        "id": "cancel-" + payment.transaction_id,
        "totalAmount": payment.amount,
        "taxFreeAmount": 0,
        "vatAmount": 0,
        "reason": payment.cancel_reason or "",
        "requestedAt": payment.status_changed_at,
        "cancelledAt": payment.status_changed_at,
    }


def _refusal(status: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse({"type": kind, "message": message}, status_code=status)


class FakePortOne:
    """The fake provider's state and its Starlette app (`.app`)."""

    def __init__(
        self,
        *,
        api_secret: str = FAKE_API_SECRET,
        webhook_secret: str = FAKE_WEBHOOK_SECRET,
        webhook_url: str | None = None,
        store_id: str = FAKE_STORE_ID,
    ) -> None:
        self.api_secret = api_secret
        self.webhook_secret = webhook_secret
        self.webhook_url = webhook_url
        self.store_id = store_id
        self.payments: dict[str, FakePayment] = {}
        self.billing_keys: dict[str, FakeBillingKey] = {}
        self.refused_charges = 0  # charges of an id already paid (ALREADY_PAID answers)
        self.webhooks_sent: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self.app = Starlette(
            routes=[
                Route("/payments/{payment_id}", self.get_payment, methods=["GET"]),
                Route("/payments/{payment_id}/billing-key", self.pay, methods=["POST"]),
                Route("/payments/{payment_id}/cancel", self.cancel, methods=["POST"]),
                Route("/billing-keys", self.issue_billing_key, methods=["POST"]),
                Route("/billing-keys/{billing_key}", self.get_billing_key, methods=["GET"]),
                Route("/billing-keys/{billing_key}", self.delete_billing_key, methods=["DELETE"]),
                Route("/browser-sdk.js", self.browser_sdk, methods=["GET"]),
                Route("/window", self.window, methods=["GET"]),
                Route("/window", self.window_done, methods=["POST"]),
            ]
        )

    # REST ------------------------------------------------------------------------------

    def _authorized(self, request: Request) -> bool:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        return scheme == "PortOne" and hmac.compare_digest(secret.strip(), self.api_secret)

    async def _body(self, request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def get_payment(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        payment = self.payments.get(request.path_params["payment_id"])
        if payment is None:
            return _refusal(404, "PAYMENT_NOT_FOUND", "no such payment")
        return JSONResponse(payment.json(self.store_id))

    async def pay(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        body = await self._body(request)
        payment_id = request.path_params["payment_id"]
        amount = body.get("amount") if body else None
        total = amount.get("total") if isinstance(amount, dict) else None
        if (
            body is None
            or not isinstance(body.get("billingKey"), str)
            or not isinstance(body.get("orderName"), str)
            or not isinstance(total, int)
            or total <= 0
            or not isinstance(body.get("currency"), str)
        ):
            return _refusal(400, "INVALID_REQUEST", "billingKey, orderName, amount, currency")
        key = self.billing_keys.get(body["billingKey"])
        if key is None or key.deleted:
            return _refusal(404, "BILLING_KEY_NOT_FOUND", "no such billing key")
        existing = self.payments.get(payment_id)
        if existing is not None and existing.status in ("PAID", "CANCELLED"):
            self.refused_charges += 1
            return _refusal(409, "ALREADY_PAID", "this payment id is already paid")
        customer = body.get("customer")
        customer_id = customer.get("id") if isinstance(customer, dict) else None
        payment = FakePayment(
            id=payment_id,
            status="FAILED" if key.declines else "PAID",
            amount=total,
            currency=body["currency"],
            order_name=body["orderName"],
            customer_id=customer_id if isinstance(customer_id, str) else key.customer_id,
            billing_key=key.key,
            failure="카드사 승인 거절 (card declined)" if key.declines else None,
        )
        self.payments[payment_id] = payment
        if key.declines:
            self._send_webhook("Transaction.Failed", payment)
            return JSONResponse(
                {
                    "type": "PG_PROVIDER",
                    "message": "card declined",
                    "pgCode": "DECLINED",
                    "pgMessage": "카드사 승인 거절",
                },
                status_code=400,
            )
        self._send_webhook("Transaction.Paid", payment)
        return JSONResponse(
            {"payment": {"pgTxId": payment.transaction_id, "paidAt": payment.requested_at}}
        )

    async def cancel(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        body = await self._body(request)
        if body is None or not isinstance(body.get("reason"), str):
            return _refusal(400, "INVALID_REQUEST", "reason")
        payment = self.payments.get(request.path_params["payment_id"])
        if payment is None:
            return _refusal(404, "PAYMENT_NOT_FOUND", "no such payment")
        if payment.status == "CANCELLED":
            return _refusal(409, "PAYMENT_ALREADY_CANCELLED", "already cancelled")
        if payment.status != "PAID":
            return _refusal(409, "PAYMENT_NOT_PAID", "not paid")
        payment.status = "CANCELLED"
        payment.cancel_reason = body["reason"]
        payment.status_changed_at = _now()
        self._send_webhook("Transaction.Cancelled", payment)
        return JSONResponse({"cancellation": _cancellation(payment)})

    async def issue_billing_key(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        body = await self._body(request)
        method = body.get("method") if body else None
        card = method.get("card") if isinstance(method, dict) else None
        credential = card.get("credential") if isinstance(card, dict) else None
        number = credential.get("number") if isinstance(credential, dict) else None
        if body is None or not isinstance(number, str) or not number.strip():
            return _refusal(400, "INVALID_REQUEST", "method.card.credential.number")
        customer = body.get("customer")
        customer_id = customer.get("id") if isinstance(customer, dict) else None
        key = self._new_billing_key(number, customer_id if isinstance(customer_id, str) else None)
        return JSONResponse(
            {"billingKeyInfo": {"billingKey": key.key, "issuedAt": key.issued_at, "channels": []}}
        )

    async def get_billing_key(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        key = self.billing_keys.get(request.path_params["billing_key"])
        if key is None:
            return _refusal(404, "BILLING_KEY_NOT_FOUND", "no such billing key")
        return JSONResponse(key.json(self.store_id))

    async def delete_billing_key(self, request: Request) -> Response:
        if not self._authorized(request):
            return _refusal(401, "UNAUTHORIZED", "invalid API secret")
        key = self.billing_keys.get(request.path_params["billing_key"])
        if key is None:
            return _refusal(404, "BILLING_KEY_NOT_FOUND", "no such billing key")
        if key.deleted:
            return _refusal(409, "BILLING_KEY_ALREADY_DELETED", "already deleted")
        key.deleted = True
        return JSONResponse({"deletedAt": _now()})

    def _new_billing_key(self, card_number: str, customer_id: str | None) -> FakeBillingKey:
        digits = "".join(c for c in card_number if c.isdigit())
        key = FakeBillingKey(
            key="billing-key-" + secrets.token_urlsafe(18),
            customer_id=customer_id,
            declines=digits.endswith(DECLINED_CARD_SUFFIX),
        )
        self.billing_keys[key.key] = key
        return key

    # Webhooks --------------------------------------------------------------------------

    def _send_webhook(self, kind: str, payment: FakePayment) -> None:
        data: dict[str, Any] = {
            "paymentId": payment.id,
            "storeId": self.store_id,
            "transactionId": payment.transaction_id,
        }
        if kind == "Transaction.Cancelled":
            data["cancellationId"] = "cancel-" + payment.transaction_id
        body = {"type": kind, "timestamp": _now(), "data": data}
        self.webhooks_sent.append(body)
        if self.webhook_url is None:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(json.dumps(body)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, payload: str) -> None:
        """Post the webhook, retrying a few times as PortOne does (on failure or non-2xx)."""
        assert self.webhook_url is not None
        for attempt in range(WEBHOOK_ATTEMPTS):
            await asyncio.sleep(0.05 if attempt == 0 else 0.5 * attempt)
            try:
                async with httpx.AsyncClient(timeout=10) as http:
                    reply = await http.post(
                        self.webhook_url,
                        content=payload.encode(),
                        headers=signed_headers(self.webhook_secret, payload),
                    )
                if reply.status_code < 300:
                    return
                log.warning("fake portone: webhook refused", status=reply.status_code)
            except httpx.HTTPError as exc:
                log.warning("fake portone: webhook not delivered", error=type(exc).__name__)

    # Browser ---------------------------------------------------------------------------

    async def browser_sdk(self, request: Request) -> Response:
        return Response(
            BROWSER_SDK,
            media_type="text/javascript",
            headers={"cache-control": "no-store"},
        )

    async def window(self, request: Request) -> Response:
        query = request.query_params
        redirect = query.get("redirectUrl", "")
        if query.get("storeId") != self.store_id or not _http_url(redirect):
            return HTMLResponse(
                "<!doctype html><title>PortOne (fake)</title><p>Bad request: storeId and "
                "redirectUrl are required.</p>",
                status_code=400,
            )
        english = query.get("locale", "").upper().startswith("EN")
        text = WINDOW_TEXT["en" if english else "ko"]
        amount = query.get("displayAmount", "")
        amount_line = (
            f"<p class='amount'>{escape(text['amount'])}: <strong>"
            f"{int(amount):,} {escape(query.get('currency', 'KRW'))}</strong></p>"
            if amount.isdigit()
            else ""
        )
        hidden = "".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in query.multi_items()
            if name in ("storeId", "redirectUrl", "customerId", "issueId", "locale")
        )
        html = WINDOW_PAGE.format(
            lang="en" if english else "ko",
            title=escape(text["title"]),
            heading=escape(text["heading"]),
            issue=escape(query.get("issueName", "")),
            amount_line=amount_line,
            card_label=escape(text["card"]),
            card=TEST_CARD,
            note=escape(text["note"]),
            pay=escape(text["pay"]),
            cancel=escape(text["cancel"]),
            hidden=hidden,
        )
        return HTMLResponse(html, headers={"cache-control": "no-store"})

    async def window_done(self, request: Request) -> Response:
        form = await request.form()
        redirect = str(form.get("redirectUrl", ""))
        if str(form.get("storeId", "")) != self.store_id or not _http_url(redirect):
            return HTMLResponse("<!doctype html><p>Bad request.</p>", status_code=400)
        params = {"transactionType": "ISSUE_BILLING_KEY"}
        if form.get("action") == "pay":
            customer = str(form.get("customerId", "")) or None
            key = self._new_billing_key(str(form.get("card", TEST_CARD)), customer)
            params["billingKey"] = key.key
        else:
            params["code"] = "FAILURE_TYPE_PG"
            params["message"] = "사용자가 결제를 취소하였습니다 (cancelled by the user)"
        return RedirectResponse(_with_query(redirect, params), status_code=303)


def _http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = [*parse_qsl(parts.query, keep_blank_values=True), *params.items()]
    return urlunsplit(parts._replace(query=urlencode(query)))


WINDOW_TEXT = {
    "ko": {
        "title": "결제창 (테스트)",
        "heading": "PortOne 테스트 결제창",
        "amount": "결제 금액",
        "card": "테스트 카드 번호",
        "note": "테스트 모드입니다. 실제로 청구되지 않습니다.",
        "pay": "결제하기",
        "cancel": "취소",
    },
    "en": {
        "title": "Payment window (test)",
        "heading": "PortOne test payment window",
        "amount": "Amount",
        "card": "Test card number",
        "note": "Test mode: nothing is charged.",
        "pay": "Pay",
        "cancel": "Cancel",
    },
}

WINDOW_PAGE = """<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #eef1f6; margin: 0; padding: 1rem; }}
main {{ max-width: 26rem; margin: 2rem auto; background: #fff; border-radius: 12px;
  padding: 1.5rem; box-shadow: 0 2px 12px rgba(0,0,0,.12); }}
h1 {{ font-size: 1.25rem; margin-top: 0; }}
label {{ display: block; margin: 1rem 0 .25rem; font-weight: 600; }}
input[type=text] {{ width: 100%; box-sizing: border-box; padding: .6rem; font-size: 1rem; }}
.note {{ color: #555; font-size: .9rem; }}
.buttons {{ display: flex; gap: .75rem; margin-top: 1.25rem; }}
button {{ flex: 1; padding: .75rem; font-size: 1rem; border-radius: 8px; border: 1px solid #999;
  cursor: pointer; background: #fff; }}
button.pay {{ background: #1a5fd0; color: #fff; border-color: #1a5fd0; }}
</style>
</head>
<body>
<main>
<h1>{heading}</h1>
<p>{issue}</p>
{amount_line}
<form method="post" action="window">
{hidden}
<label for="card">{card_label}</label>
<input type="text" id="card" name="card" value="{card}" inputmode="numeric" autocomplete="off">
<p class="note">{note}</p>
<div class="buttons">
<button type="submit" name="action" value="cancel" id="fake-cancel">{cancel}</button>
<button type="submit" name="action" value="pay" class="pay" id="fake-pay">{pay}</button>
</div>
</form>
</main>
</body>
</html>
"""

# The browser SDK: PortOne.requestIssueBillingKey(request) goes to the payment window (the
# real SDK's redirect mode); the window comes back to request.redirectUrl.
BROWSER_SDK = """(function () {
  "use strict";
  var script = document.currentScript;
  var base = script ? script.src.replace(/\\/browser-sdk\\.js(\\?.*)?$/, "") : "";
  function requestIssueBillingKey(request) {
    if (!request || !request.storeId || !request.redirectUrl) {
      return Promise.resolve({
        transactionType: "ISSUE_BILLING_KEY", code: "INVALID_REQUEST",
        message: "storeId and redirectUrl are required"
      });
    }
    var query = new URLSearchParams();
    ["storeId", "channelKey", "billingKeyMethod", "issueId", "issueName", "redirectUrl",
     "locale", "displayAmount", "currency"].forEach(function (name) {
      if (request[name] !== undefined && request[name] !== null) {
        query.set(name, String(request[name]));
      }
    });
    if (request.customer && request.customer.customerId) {
      query.set("customerId", request.customer.customerId);
    }
    window.location.assign(base + "/window?" + query.toString());
    return new Promise(function () {});  // the page is left for the window
  }
  window.PortOne = { requestIssueBillingKey: requestIssueBillingKey };
})();
"""


def create_app(settings: Settings) -> Starlette:
    """The fake as this site serves it (under FAKE_PATH), sending webhooks to the site."""
    secret = (
        settings.PORTONE_WEBHOOK_SECRET.get_secret_value()
        if settings.PORTONE_WEBHOOK_SECRET is not None
        else FAKE_WEBHOOK_SECRET
    )
    fake = FakePortOne(webhook_secret=secret, webhook_url=settings.BASE_URL + "/payments/webhook")
    fake.app.state.fake = fake
    return fake.app


__all__ = ["FAKE_PATH", "FakePortOne", "create_app", "sign_webhook", "signed_headers"]
