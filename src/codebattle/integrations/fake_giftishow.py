"""A fake Giftishow Biz: the part of its B2B API our gift-card exchanges use, on the same
paths, with the same form-encoded requests and JSON replies (integrations/giftishow.py).

Outside production without GIFTISHOW_AUTH_CODE the app serves it under /fake-giftishow,
so the embedded default exchanges points for (pretend) cards end to end; tests serve it on
loopback (tests/support/fake_giftishow.py). State is in memory; no MMS is ever sent.

POST /goods (0101, paged by start/size), /goods/{code}, /send (0204), /coupons (0201),
/cancel (0202), /bizmoney (0301). Every call checks `custom_auth_code` and
`custom_auth_token` (else E0001) and that `api_code` fits the path (else E0002). Replies
are HTTP 200 with `{"code", "message", "result"}`; the codes are giftishow.py's:
E0002 bad field, E0003 unknown goods, E0004 business money too low, E0008 a repeated
tr_id on send (never a second card), E0009 no card with that tr_id, E0010 not cancellable.

Faults for tests (`fail_next`): the next N calls to a path are refused with a code, time
out (the fake sleeps longer than the client waits, making no card), are answered 500 or
with a body that is not JSON, or are "lost": the card is issued, then the answer is held
back past the client's timeout (so the client sees GiftUnavailable while the card exists).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from codebattle.config import Settings
from codebattle.integrations.giftishow import (
    BAD_REQUEST,
    DUPLICATE_TR_ID,
    FAKE_AUTH_CODE,
    FAKE_AUTH_TOKEN,
    FAKE_PATH,
    NO_BIZMONEY,
    NOT_CANCELLABLE,
    OK,
    TITLE_MAX,
    TR_ID_MAX,
    UNAUTHORIZED,
    UNKNOWN_GOODS,
    UNKNOWN_TR_ID,
)

log = structlog.get_logger(__name__)

START_BALANCE = 1_000_000  # won of business money a new fake starts with
FAULT_KINDS = ("refuse", "timeout", "lost", "http500", "garbage")


@dataclass(frozen=True)
class FakeGoods:
    code: str
    name: str
    brand: str
    price: int

    def json(self) -> dict[str, Any]:
        return {
            "goodsCode": self.code,
            "goodsName": self.name,
            "brandName": self.brand,
            "salePrice": self.price,
            "realPrice": self.price,
            "discountPrice": self.price,
            "goodsImgS": "",
            "goodsImgB": "",
            "goodsStateCd": "SALE",
            "validPrdTypeCd": "01",
            "limitDay": 30,
        }


# The catalogue, fixed so rewards' gift goods (H5) name the same codes. The last is above
# the default REWARD_MAX_CARD_WON on purpose.
CATALOGUE = (
    FakeGoods("G00000000101", "CU 모바일상품권 3,000원", "CU", 3000),
    FakeGoods("G00000000102", "GS25 모바일상품권 5,000원", "GS25", 5000),
    FakeGoods("G00000000103", "스타벅스 아메리카노 Tall", "스타벅스", 4700),
    FakeGoods("G00000000104", "배스킨라빈스 싱글레귤러", "배스킨라빈스", 3900),
    FakeGoods("G00000000105", "CU 10,000원", "CU", 10000),
)


@dataclass
class FakeCoupon:
    """A card the fake sent. `pin_status` is Giftishow's pinStatusCd ("01" issued...)."""

    tr_id: str
    goods: FakeGoods
    phone: str
    order_no: str = field(default_factory=lambda: "2026" + secrets.token_hex(6).upper())
    pin_no: str = field(default_factory=lambda: str(secrets.randbelow(10**12)).zfill(12))
    pin_status: str = "01"
    sent_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def json(self) -> dict[str, Any]:
        valid_until = (self.sent_at + timedelta(days=30)).strftime("%Y%m%d")
        return {
            "goodsCd": self.goods.code,
            "goodsNm": self.goods.name,
            "brandNm": self.goods.brand,
            "pinStatusCd": self.pin_status,
            "pinStatusNm": PIN_NAMES.get(self.pin_status, ""),
            "orderNo": self.order_no,
            "goodsPrice": self.goods.price,
            "sellPriceAmt": self.goods.price,
            "validPrdEndDt": valid_until,
            "sendRstCd": "1000",
            "sendRstMsg": "발송성공",
        }


PIN_NAMES = {"01": "발행", "02": "교환", "03": "반품", "07": "구매취소", "08": "기간만료"}


@dataclass
class Fault:
    kind: str  # one of FAULT_KINDS
    path: str  # "/send", "/coupons", ...
    remaining: int
    code: str = BAD_REQUEST  # for "refuse"
    delay: float = 1.0  # seconds held back, for "timeout" and "lost"


def _reply(code: str = OK, result: Any = None, message: str | None = None) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "result": result})


class FakeGiftishow:
    """The fake provider's state and its Starlette app (`.app`)."""

    def __init__(
        self,
        *,
        auth_code: str = FAKE_AUTH_CODE,
        auth_token: str = FAKE_AUTH_TOKEN,
        balance: int = START_BALANCE,
        catalogue: tuple[FakeGoods, ...] = CATALOGUE,
    ) -> None:
        self.auth_code = auth_code
        self.auth_token = auth_token
        self.balance = balance
        self.goods = {g.code: g for g in catalogue}
        self.coupons: dict[str, FakeCoupon] = {}  # by tr_id
        self.faults: list[Fault] = []
        self.calls: list[str] = []  # api codes received, in order
        self.refused_duplicates = 0
        self.app = Starlette(
            routes=[
                Route("/goods", self.list_goods, methods=["POST"]),
                Route("/send", self.send, methods=["POST"]),
                Route("/coupons", self.coupon, methods=["POST"]),
                Route("/cancel", self.cancel, methods=["POST"]),
                Route("/bizmoney", self.bizmoney, methods=["POST"]),
            ]
        )

    # For tests ---------------------------------------------------------------------------

    def fail_next(
        self,
        kind: str,
        *,
        times: int = 1,
        path: str = "/send",
        code: str = BAD_REQUEST,
        delay: float = 1.0,
    ) -> None:
        """Make the next `times` calls to `path` fail as `kind` (FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"kind must be one of {FAULT_KINDS}")
        self.faults.append(Fault(kind, path, times, code, delay))

    def set_status(self, tr_id: str, pin_status: str) -> None:
        """Change a sent card's pinStatusCd (used "02", expired "08"...), as time would."""
        self.coupons[tr_id].pin_status = pin_status

    @property
    def cards_made(self) -> int:
        return len(self.coupons)

    # Protocol ----------------------------------------------------------------------------

    def _fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.path == path and fault.remaining > 0:
                fault.remaining -= 1
                return fault
        return None

    async def _form(
        self, request: Request, api_code: str
    ) -> tuple[dict[str, str], Response | None]:
        """The request's fields, or the refusal to answer with."""
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.calls.append(form.get("api_code", ""))
        if not (
            secrets.compare_digest(form.get("custom_auth_code", ""), self.auth_code)
            and secrets.compare_digest(form.get("custom_auth_token", ""), self.auth_token)
        ):
            return form, _reply(
                UNAUTHORIZED, message="인증에 실패하였습니다 (authentication failed)"
            )
        if form.get("api_code") != api_code or form.get("dev_yn") not in ("Y", "N"):
            return form, _reply(BAD_REQUEST, message="api_code or dev_yn")
        return form, None

    async def _faulty(self, path: str) -> tuple[Fault | None, Response | None]:
        """A fault's answer for kinds that make no card; "lost" is left to the caller."""
        fault = self._fault(path)
        if fault is None or fault.kind == "lost":
            return fault, None
        if fault.kind == "refuse":
            return fault, _reply(fault.code, message="요청이 거절되었습니다 (refused)")
        if fault.kind == "timeout":
            await asyncio.sleep(fault.delay)
            return fault, PlainTextResponse("gateway timeout", status_code=504)
        if fault.kind == "http500":
            return fault, PlainTextResponse("internal server error", status_code=500)
        return fault, PlainTextResponse("<html>not json</html>", status_code=200)

    async def list_goods(self, request: Request) -> Response:
        form, refusal = await self._form(request, "0101")
        if refusal is not None:
            return refusal
        _, faulty = await self._faulty("/goods")
        if faulty is not None:
            return faulty
        start, size = form.get("start", "1"), form.get("size", "20")
        if not (start.isdigit() and size.isdigit() and int(start) >= 1 and int(size) >= 1):
            return _reply(BAD_REQUEST, message="start, size")
        items = list(self.goods.values())
        first = (int(start) - 1) * int(size)
        page = items[first : first + int(size)]
        return _reply(result={"listNum": len(items), "goodsList": [g.json() for g in page]})

    async def send(self, request: Request) -> Response:
        form, refusal = await self._form(request, "0204")
        if refusal is not None:
            return refusal
        fault, faulty = await self._faulty("/send")
        if faulty is not None:
            return faulty
        tr_id, phone = form.get("tr_id", ""), form.get("phone_no", "")
        if (
            not 1 <= len(tr_id) <= TR_ID_MAX
            or not (phone.isdigit() and 10 <= len(phone) <= 11)
            or not 1 <= len(form.get("mms_title", "")) <= TITLE_MAX
            or not form.get("mms_msg")
            or not form.get("callback_no", "").isdigit()
            or not form.get("user_id")
            or form.get("gubun") != "N"
        ):
            return _reply(BAD_REQUEST, message="tr_id, phone_no, mms_title, mms_msg, callback_no")
        if tr_id in self.coupons:
            self.refused_duplicates += 1
            return _reply(DUPLICATE_TR_ID, message="이미 사용된 거래번호입니다 (tr_id used)")
        goods = self.goods.get(form.get("goods_code", ""))
        if goods is None:
            return _reply(UNKNOWN_GOODS, message="상품이 존재하지 않습니다 (no such goods)")
        if self.balance < goods.price:
            return _reply(NO_BIZMONEY, message="비즈머니가 부족합니다 (business money too low)")
        coupon = FakeCoupon(tr_id=tr_id, goods=goods, phone=phone)
        self.coupons[tr_id] = coupon
        self.balance -= goods.price
        if fault is not None:  # "lost": the card exists, the answer comes too late
            await asyncio.sleep(fault.delay)
        inner = {
            "orderNo": coupon.order_no,
            "pinNo": coupon.pin_no,
            "couponImgUrl": f"https://example.invalid/coupon/{coupon.order_no}.png",
        }
        return _reply(result={"code": OK, "message": None, "result": inner})

    async def coupon(self, request: Request) -> Response:
        form, refusal = await self._form(request, "0201")
        if refusal is not None:
            return refusal
        _, faulty = await self._faulty("/coupons")
        if faulty is not None:
            return faulty
        coupon = self.coupons.get(form.get("tr_id", ""))
        if coupon is None:
            return _reply(UNKNOWN_TR_ID, message="거래번호가 존재하지 않습니다 (no such tr_id)")
        return _reply(result=[{"resCode": OK, "resMsg": "정상", "couponInfoList": [coupon.json()]}])

    async def cancel(self, request: Request) -> Response:
        form, refusal = await self._form(request, "0202")
        if refusal is not None:
            return refusal
        _, faulty = await self._faulty("/cancel")
        if faulty is not None:
            return faulty
        coupon = self.coupons.get(form.get("tr_id", ""))
        if coupon is None:
            return _reply(UNKNOWN_TR_ID, message="거래번호가 존재하지 않습니다 (no such tr_id)")
        if coupon.pin_status != "01":
            return _reply(NOT_CANCELLABLE, message="취소할 수 없는 쿠폰입니다 (not cancellable)")
        coupon.pin_status = "07"
        self.balance += coupon.goods.price
        return _reply(result=None)

    async def bizmoney(self, request: Request) -> Response:
        _, refusal = await self._form(request, "0301")
        if refusal is not None:
            return refusal
        _, faulty = await self._faulty("/bizmoney")
        if faulty is not None:
            return faulty
        return _reply(result={"balance": str(self.balance)})


def create_app(settings: Settings) -> Starlette:
    """The fake as this site serves it (under FAKE_PATH): never in production or a preview."""
    if settings.production_like:
        raise RuntimeError(f"the fake Giftishow is not served in {settings.ENVIRONMENT}")
    fake = FakeGiftishow()
    fake.app.state.fake = fake
    return fake.app


__all__ = ["CATALOGUE", "FAKE_PATH", "FAULT_KINDS", "FakeGiftishow", "FakeGoods", "create_app"]
