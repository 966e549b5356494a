"""Our PortOne client against the fake provider served by a real uvicorn on loopback: read,
charge a billing key, cancel, billing keys, refusals (a wrong secret, an id charged twice, a
declined card, an unknown payment), the payment window's redirect, and signed webhooks. The
fake's answers are also read by PortOne's own SDK, so the fake speaks PortOne's shapes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from codebattle.integrations.fake_portone import FakePortOne, signed_headers
from codebattle.integrations.portone import (
    FAKE_STORE_ID,
    FAKE_WEBHOOK_SECRET,
    PaymentProviderError,
    PortOne,
    WebhookRejected,
    verify_webhook,
)
from tests.support.fake_portone import client_of, running_fake, serving
from tests.support.servers import free_port


@pytest.fixture(scope="module")
def provider() -> Iterator[tuple[FakePortOne, str]]:
    with running_fake() as running:
        yield running


async def _key(client: PortOne, customer: str = "user-1", card: str = "4242424242424242") -> str:
    return await client.issue_billing_key(
        card_number=card,
        expiry_year="30",
        expiry_month="12",
        birth_or_business_number="900101",
        password_two_digits="00",
        customer_id=customer,
    )


async def test_charge_then_read(provider: tuple[FakePortOne, str]) -> None:
    fake, url = provider
    client = client_of(url)
    key = await _key(client, "user-7")
    info = await client.get_billing_key(key)
    assert (info.status, info.customer_id) == ("ISSUED", "user-7")
    await client.pay_with_billing_key(
        "pay-read-1",
        billing_key=key,
        order_name="AI Code Battle Pro (30d)",
        amount=9900,
        currency="KRW",
        customer_id="user-7",
    )
    payment = await client.get_payment("pay-read-1")
    assert (payment.status, payment.amount, payment.currency) == ("PAID", 9900, "KRW")
    assert (payment.customer_id, payment.billing_key) == ("user-7", key)
    assert fake.payments["pay-read-1"].charges == 1


async def test_a_payment_id_is_charged_once(provider: tuple[FakePortOne, str]) -> None:
    fake, url = provider
    client = client_of(url)
    key = await _key(client)
    charge = {
        "billing_key": key,
        "order_name": "Basic",
        "amount": 4900,
        "currency": "KRW",
        "customer_id": "user-1",
    }
    await client.pay_with_billing_key("pay-once", **charge)  # type: ignore[arg-type]
    refused_before = fake.refused_charges
    with pytest.raises(PaymentProviderError) as again:
        await client.pay_with_billing_key("pay-once", **charge)  # type: ignore[arg-type]
    assert again.value.kind == "already_paid"
    assert fake.refused_charges == refused_before + 1


async def test_declined_card(provider: tuple[FakePortOne, str]) -> None:
    _, url = provider
    client = client_of(url)
    key = await _key(client, card="4000-0000-0000-0002")
    with pytest.raises(PaymentProviderError) as refused:
        await client.pay_with_billing_key(
            "pay-declined",
            billing_key=key,
            order_name="Pro",
            amount=9900,
            currency="KRW",
            customer_id="user-1",
        )
    assert refused.value.kind == "rejected"
    payment = await client.get_payment("pay-declined")
    assert payment.status == "FAILED"
    assert payment.failure is not None and "declined" in payment.failure


async def test_cancel(provider: tuple[FakePortOne, str]) -> None:
    _, url = provider
    client = client_of(url)
    key = await _key(client)
    await client.pay_with_billing_key(
        "pay-cancel",
        billing_key=key,
        order_name="Pro",
        amount=9900,
        currency="KRW",
        customer_id="user-1",
    )
    await client.cancel_payment("pay-cancel", reason="operator refund")
    assert (await client.get_payment("pay-cancel")).status == "CANCELLED"
    with pytest.raises(PaymentProviderError) as again:
        await client.cancel_payment("pay-cancel", reason="twice")
    assert again.value.kind == "already_cancelled"


async def test_refusals(provider: tuple[FakePortOne, str]) -> None:
    _, url = provider
    with pytest.raises(PaymentProviderError) as unknown:
        await client_of(url).get_payment("pay-nobody-made")
    assert unknown.value.kind == "not_found"
    with pytest.raises(PaymentProviderError) as no_key:
        await client_of(url).get_billing_key("billing-key-unknown")
    assert no_key.value.kind == "billing_key_not_found"
    wrong = client_of(url, secret="not-the-secret")  # noqa: S106
    with pytest.raises(PaymentProviderError) as refused:
        await wrong.get_payment("pay-read-1")
    assert refused.value.kind == "unauthorized"
    assert "not-the-secret" not in str(refused.value) + repr(wrong)
    with pytest.raises(PaymentProviderError) as down:
        await client_of(f"http://127.0.0.1:{free_port()}").get_payment("x")
    assert down.value.kind == "unreachable"


async def test_the_sdk_reads_the_fake(provider: tuple[FakePortOne, str]) -> None:
    """PortOne's own SDK parses the fake's answers (a paid and a cancelled payment, a
    billing key, an error) into its typed objects: the fake keeps PortOne's shapes."""
    from portone_server_sdk.errors import PaymentNotFoundError
    from portone_server_sdk.payment import PaymentClient
    from portone_server_sdk.payment.billing_key import BillingKeyClient

    _, url = provider
    client = client_of(url)
    key = await _key(client, "user-9")
    await client.pay_with_billing_key(
        "pay-sdk",
        billing_key=key,
        order_name="Pro",
        amount=9900,
        currency="KRW",
        customer_id="user-9",
    )
    sdk = PaymentClient(secret="fake-portone-api-secret", base_url=url)  # noqa: S106
    paid = await sdk.get_payment_async(payment_id="pay-sdk")
    assert type(paid).__name__ == "PaidPayment"
    assert paid.amount.total == 9900  # type: ignore[union-attr]
    await client.cancel_payment("pay-sdk", reason="refund")
    cancelled = await sdk.get_payment_async(payment_id="pay-sdk")
    assert type(cancelled).__name__ == "CancelledPayment"
    info = await BillingKeyClient(
        secret="fake-portone-api-secret", base_url=url
    ).get_billing_key_info_async(  # noqa: S106, E501
        billing_key=key
    )
    assert type(info).__name__ == "IssuedBillingKeyInfo"
    with pytest.raises(PaymentNotFoundError):
        await sdk.get_payment_async(payment_id="pay-none")


def test_payment_window_comes_back_with_a_billing_key(provider: tuple[FakePortOne, str]) -> None:
    fake, url = provider
    back = "https://site.example/checkout/complete?payment=pay-w1"
    query = {
        "storeId": FAKE_STORE_ID,
        "redirectUrl": back,
        "customerId": "user-3",
        "issueName": "Pro",
        "locale": "KO_KR",
        "displayAmount": "9900",
    }
    with httpx.Client(base_url=url) as http:
        page = http.get("/window", params=query)
        assert page.status_code == 200
        assert "결제하기" in page.text and "9,900" in page.text
        assert "Pay" in http.get("/window", params={**query, "locale": "EN_US"}).text
        paid = http.post("/window", data={**query, "action": "pay"})
        cancelled = http.post("/window", data={**query, "action": "cancel"})
        assert http.get("/window", params={"redirectUrl": back}).status_code == 400
        assert "requestIssueBillingKey" in http.get("/browser-sdk.js").text
    assert paid.status_code == 303
    target = urlsplit(paid.headers["location"])
    params = parse_qs(target.query)
    assert target.netloc == "site.example" and params["payment"] == ["pay-w1"]
    assert params["transactionType"] == ["ISSUE_BILLING_KEY"]
    assert fake.billing_keys[params["billingKey"][0]].customer_id == "user-3"
    refused = parse_qs(urlsplit(cancelled.headers["location"]).query)
    assert "billingKey" not in refused and refused["code"] == ["FAILURE_TYPE_PG"]


async def test_signed_webhooks_arrive_and_verify() -> None:
    """The fake posts a Standard Webhooks-signed body after a charge; PortOne's verifier
    (through ours) accepts it and refuses it changed, re-signed with another secret, or
    too old."""
    received: list[tuple[str, dict[str, str]]] = []

    async def hook(request: Request) -> Response:
        received.append(((await request.body()).decode(), dict(request.headers)))
        return JSONResponse({"ok": True})

    receiver = Starlette(routes=[Route("/payments/webhook", hook, methods=["POST"])])
    with (
        serving(receiver) as hook_url,
        running_fake(webhook_url=hook_url + "/payments/webhook") as (_, url),
    ):
        client = client_of(url)
        key = await _key(client)
        await client.pay_with_billing_key(
            "pay-hook",
            billing_key=key,
            order_name="Pro",
            amount=9900,
            currency="KRW",
            customer_id="user-1",
        )
        for _ in range(200):
            if received:
                break
            await asyncio.sleep(0.05)
    assert received, "no webhook came"
    payload, headers = received[0]
    body = verify_webhook(FAKE_WEBHOOK_SECRET, payload, headers)
    assert body["type"] == "Transaction.Paid" and body["data"]["paymentId"] == "pay-hook"
    with pytest.raises(WebhookRejected):
        verify_webhook(FAKE_WEBHOOK_SECRET, payload.replace("pay-hook", "pay-evil"), headers)
    other = "whsec_" + "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldA=="
    with pytest.raises(WebhookRejected):
        verify_webhook(FAKE_WEBHOOK_SECRET, payload, signed_headers(other, payload))
    stale = signed_headers(FAKE_WEBHOOK_SECRET, payload, at=time.time() - 3600)
    with pytest.raises(WebhookRejected):
        verify_webhook(FAKE_WEBHOOK_SECRET, payload, stale)
    with pytest.raises(WebhookRejected):
        verify_webhook(FAKE_WEBHOOK_SECRET, payload, {})
    assert json.loads(payload)["data"]["storeId"] == FAKE_STORE_ID
