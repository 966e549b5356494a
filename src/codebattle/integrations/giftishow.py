"""The gift-card provider: a thin client to Giftishow Biz (KT alpha), the B2B API that sends
mobile gift cards (MMS) and charges our business money for them.

Every call is a form-encoded POST to `{GIFTISHOW_API_URL}/<path>` carrying `api_code`,
`custom_auth_code`, `custom_auth_token` and `dev_yn`; the reply is JSON
`{"code": "0000", "message": ..., "result": ...}`. Answers are read field by field and
the rest is ignored, so a field Giftishow adds never breaks an exchange.

Two kinds of failure, because they call for opposite handling (gift_seam.md):
- `GiftRefused`: the provider answered "no" (a code other than "0000"). Only the codes
  in NO_CARD, on a first send, mean that no card exists; any other refusal of a send is
  looked up by tr_id before the points go back (rewards/giftcards.py).
- `GiftUnavailable`: no usable answer (timeout, connection error, an HTTP status other
  than 200, a body that is not the expected JSON): a card MAY exist, so before sending
  again ask `status(tr_id)`. `tr_id` is our idempotency key: Giftishow takes one once.

`issue` is idempotent: a repeated `tr_id` is refused on the wire with DUPLICATE_TR_ID,
and the client then answers with the card that already exists (looked up by `status`),
so a retry never makes, nor loses, a card.

Secrets (auth code and token) and phone numbers appear in no log line, message or repr.

Without GIFTISHOW_AUTH_CODE, outside production, the provider is this site's own fake
(`integrations/fake_giftishow.py`, served under BASE_URL/fake-giftishow, fixed
credentials below); in production without credentials exchanges are closed (None).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
import structlog

from codebattle.config import Settings
from codebattle.integrations.http import tls

log = structlog.get_logger(__name__)

# The fake provider's credentials (integrations/fake_giftishow.py): public on purpose, they
# open nothing but the fake, which exists only outside production.
FAKE_AUTH_CODE = "fake-giftishow-auth-code"
FAKE_AUTH_TOKEN = "fake-giftishow-auth-token"  # noqa: S105 - the fake's, by design
FAKE_USER_ID = "codebattle-fake"
FAKE_CALLBACK_NO = "0212345678"
FAKE_PATH = "/fake-giftishow"

# Reply codes. "0000" is Giftishow's success; the E-codes are the ones the fake answers
# (and that this client gives meaning to); any other code is a plain refusal.
OK = "0000"
UNAUTHORIZED = "E0001"  # wrong auth code or token
BAD_REQUEST = "E0002"  # a field missing or malformed
UNKNOWN_GOODS = "E0003"  # no such goods code, or not on sale
NO_BIZMONEY = "E0004"  # business money too low for the card
DUPLICATE_TR_ID = "E0008"  # send: this tr_id was already used (no second card is made)
UNKNOWN_TR_ID = "E0009"  # coupons/cancel: no card was sent with this tr_id
NOT_CANCELLABLE = "E0010"  # cancel: the card was used, or is already cancelled or expired
# Send refusals that say no card was made: the request itself was wrong (credentials, a
# field, the goods) or could not be paid for. Only these, on a first send, are final; any
# other code (a duplicate tr_id under a code we do not know, a code Giftishow adds) may
# hide a card, so the caller looks the tr_id up before giving anything back.
NO_CARD = frozenset({UNAUTHORIZED, BAD_REQUEST, UNKNOWN_GOODS, NO_BIZMONEY})

TR_ID_MAX = 25
TITLE_MAX = 10
TIMEOUT_SECONDS = 15.0

# pinStatusCd -> our status. A code not listed still means a card exists: "issued".
PIN_STATUS = {
    "01": "issued",  # 발행
    "06": "issued",  # 재발행
    "02": "used",  # 교환
    "03": "refunded",  # 반품
    "05": "refunded",  # 환불
    "10": "refunded",  # 잔액환불
    "04": "cancelled",  # 관리폐기
    "07": "cancelled",  # 구매취소
    "12": "cancelled",  # 기간만료취소
    "08": "expired",  # 기간만료
    "11": "expired",  # 잔액기간만료
}


@dataclass(frozen=True)
class Goods:
    """A card on sale: its code, name, brand, price (won) and image."""

    code: str
    name: str
    brand: str
    price_won: int
    image_url: str | None


@dataclass(frozen=True)
class Issued:
    """The card was issued (the MMS was sent): Giftishow's order number and our tr_id."""

    order_no: str
    tr_id: str


@dataclass(frozen=True)
class CouponStatus:
    """A sent card as the provider has it now. `status`: "issued", "used", "cancelled",
    "expired" or "refunded"."""

    tr_id: str
    order_no: str
    status: str
    goods_code: str
    price_won: int


class GiftError(Exception):
    """A call to the gift-card provider failed."""


class GiftRefused(GiftError):
    """The provider answered "no": no card exists for this call. `code` is the provider's
    (safe to log and store), `message` its text, cut short."""

    def __init__(self, code: str, message: str = "") -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message[:200]


class GiftUnavailable(GiftError):
    """No usable answer (timeout, connection error, 5xx, bad JSON): a card MAY exist, so
    look it up by tr_id before sending again."""


class GiftProvider(Protocol):
    async def goods(self) -> list[Goods]: ...

    async def issue(
        self, *, goods_code: str, phone: str, tr_id: str, title: str, message: str
    ) -> Issued: ...

    async def status(self, tr_id: str) -> CouponStatus | None: ...

    async def cancel(self, tr_id: str) -> None: ...

    async def balance(self) -> int: ...

    async def aclose(self) -> None: ...


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


def _int(value: object) -> int | None:
    """Giftishow sends numbers as numbers or as strings ("4700", "4,700")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        text = value.replace(",", "").strip()
        if text.isdigit():
            return int(text)
    return None


class Giftishow:
    """Giftishow Biz at `base_url`. One HTTP client per instance (opened on first use):
    close it with `aclose`."""

    def __init__(
        self,
        auth_code: str,
        auth_token: str,
        *,
        base_url: str,
        user_id: str,
        callback_no: str,
        dev: bool = False,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        if not auth_code or not auth_token:
            raise ValueError("auth code or token is empty")
        self._auth_code = auth_code
        self._auth_token = auth_token
        self.base_url = base_url.rstrip("/")
        self.user_id = user_id
        self.callback_no = callback_no
        self.dev = dev
        self.timeout = timeout
        self._http: httpx.AsyncClient | None = None

    def __repr__(self) -> str:
        return f"Giftishow(base_url={self.base_url!r}, dev={self.dev})"

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _call(self, path: str, api_code: str, fields: dict[str, str]) -> Any:
        """POST and return the reply's `result`; raise GiftRefused on a code other than
        "0000", GiftUnavailable when there is no usable answer."""
        form = {
            "api_code": api_code,
            "custom_auth_code": self._auth_code,
            "custom_auth_token": self._auth_token,
            "dev_yn": "Y" if self.dev else "N",
            **fields,
        }
        if self._http is None:
            verify: ssl.SSLContext | bool = tls() if self.base_url.startswith("https") else True
            self._http = httpx.AsyncClient(timeout=self.timeout, verify=verify)
        try:
            response = await self._http.post(self.base_url + path, data=form)
        except httpx.HTTPError as exc:
            log.warning("giftishow unreachable", api_code=api_code, error=type(exc).__name__)
            raise GiftUnavailable(f"{api_code}: {type(exc).__name__}") from None
        if response.status_code != 200:
            log.warning("giftishow http error", api_code=api_code, status=response.status_code)
            raise GiftUnavailable(f"{api_code}: http {response.status_code}")
        try:
            data = response.json()
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("code"), str):
            log.warning("giftishow bad response", api_code=api_code)
            raise GiftUnavailable(f"{api_code}: not the expected JSON")
        if data["code"] != OK:
            raise GiftRefused(data["code"], str(data.get("message") or ""))
        return data.get("result")

    async def goods(self) -> list[Goods]:
        """Every card on sale (api 0101), page by page."""
        found: list[Goods] = []
        size = 100
        for page in range(1, 51):
            result = await self._call("/goods", "0101", {"start": str(page), "size": str(size)})
            items = result.get("goodsList") if isinstance(result, dict) else None
            if not isinstance(items, list):
                raise GiftUnavailable("0101: no goodsList")
            found.extend(g for item in items if (g := _goods(item)) is not None)
            total = _int(result.get("listNum"))
            if len(items) < size or (total is not None and len(found) >= total):
                break
        return found

    async def issue(
        self, *, goods_code: str, phone: str, tr_id: str, title: str, message: str
    ) -> Issued:
        """Send one card by MMS (api 0204). Idempotent by `tr_id`: a repeated one returns
        the card already sent with it (DUPLICATE_TR_ID on the wire; never a second card)."""
        if not tr_id or len(tr_id) > TR_ID_MAX:
            raise ValueError(f"tr_id must be 1..{TR_ID_MAX} characters")
        fields = {
            "goods_code": goods_code,
            "mms_msg": message,
            "mms_title": title[:TITLE_MAX],
            "callback_no": self.callback_no,
            "phone_no": _digits(phone),
            "tr_id": tr_id,
            "user_id": self.user_id,
            "gubun": "N",
        }
        try:
            result = await self._call("/send", "0204", fields)
        except GiftRefused as refused:
            if refused.code != DUPLICATE_TR_ID:
                raise
            existing = await self.status(tr_id)
            if existing is None:  # the provider contradicts itself: make the caller look again
                raise GiftUnavailable("0204: duplicate tr_id without a card") from None
            return Issued(existing.order_no, tr_id)
        inner = result if isinstance(result, dict) else {}
        code = inner.get("code")
        if isinstance(code, str) and code != OK:
            raise GiftRefused(code, str(inner.get("message") or ""))
        body = inner.get("result")
        order_no = body.get("orderNo") if isinstance(body, dict) else None
        if not isinstance(order_no, str) or not order_no:
            raise GiftUnavailable("0204: no orderNo")
        return Issued(order_no, tr_id)

    async def status(self, tr_id: str) -> CouponStatus | None:
        """The card sent with `tr_id` (api 0201), or None when none was."""
        try:
            result = await self._call("/coupons", "0201", {"tr_id": tr_id})
        except GiftRefused as refused:
            if refused.code == UNKNOWN_TR_ID:
                return None
            raise
        first = result[0] if isinstance(result, list) and result else None
        infos = first.get("couponInfoList") if isinstance(first, dict) else None
        info = infos[0] if isinstance(infos, list) and infos else None
        if not isinstance(info, dict):
            return None  # an empty list: no card with this tr_id
        pin = info.get("pinStatusCd")
        order_no, goods_code = info.get("orderNo"), info.get("goodsCd")
        price = _int(info.get("goodsPrice"))
        if not isinstance(order_no, str) or not isinstance(goods_code, str) or price is None:
            raise GiftUnavailable("0201: coupon without orderNo, goodsCd or goodsPrice")
        return CouponStatus(
            tr_id=tr_id,
            order_no=order_no,
            status=PIN_STATUS.get(str(pin), "issued"),
            goods_code=goods_code,
            price_won=price,
        )

    async def cancel(self, tr_id: str) -> None:
        """Cancel the card sent with `tr_id` (api 0202): business money comes back."""
        await self._call("/cancel", "0202", {"tr_id": tr_id, "user_id": self.user_id})

    async def balance(self) -> int:
        """Business money left, in won (api 0301)."""
        result = await self._call("/bizmoney", "0301", {"user_id": self.user_id})
        balance = _int(result.get("balance")) if isinstance(result, dict) else None
        if balance is None:
            raise GiftUnavailable("0301: no balance")
        return balance


def _goods(item: object) -> Goods | None:
    if not isinstance(item, dict):
        return None
    code, name = item.get("goodsCode"), item.get("goodsName")
    price = _int(item.get("salePrice"))
    if price is None:
        price = _int(item.get("realPrice"))
    if not isinstance(code, str) or not isinstance(name, str) or price is None:
        return None
    brand = item.get("brandName")
    image = item.get("goodsImgS") or item.get("goodsImgB")
    return Goods(
        code=code,
        name=name,
        brand=brand if isinstance(brand, str) else "",
        price_won=price,
        image_url=image if isinstance(image, str) and image else None,
    )


def provider_for(settings: Settings) -> GiftProvider | None:
    """The provider this site uses: Giftishow when GIFTISHOW_AUTH_CODE is set; the built-in
    fake (under BASE_URL/fake-giftishow) outside production without one; else None
    (exchanges closed)."""
    timeout = settings.GIFTISHOW_TIMEOUT_SECONDS
    code, token = settings.GIFTISHOW_AUTH_CODE, settings.GIFTISHOW_AUTH_TOKEN
    if code is not None and token is not None:
        return Giftishow(
            code.get_secret_value(),
            token.get_secret_value(),
            base_url=str(settings.GIFTISHOW_API_URL),
            user_id=settings.GIFTISHOW_USER_ID or "",
            callback_no=settings.GIFTISHOW_CALLBACK_NO or "",
            dev=settings.GIFTISHOW_DEV,
            timeout=timeout,
        )
    if settings.fake_giftcards:
        return Giftishow(
            FAKE_AUTH_CODE,
            FAKE_AUTH_TOKEN,
            base_url=settings.BASE_URL + FAKE_PATH,
            user_id=FAKE_USER_ID,
            callback_no=FAKE_CALLBACK_NO,
            dev=True,
            timeout=timeout,
        )
    return None


__all__ = [
    "DUPLICATE_TR_ID",
    "FAKE_PATH",
    "NO_CARD",
    "NOT_CANCELLABLE",
    "CouponStatus",
    "GiftError",
    "GiftProvider",
    "GiftRefused",
    "GiftUnavailable",
    "Giftishow",
    "Goods",
    "Issued",
    "UNKNOWN_TR_ID",
    "provider_for",
]
