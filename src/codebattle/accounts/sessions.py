"""Sessions kept on the server: the database, or Redis when `REDIS_URL` is set.

A browser's cookie carries a random session id; the store keeps only its SHA-256, so a copy
of the store (a backup, a Redis dump) signs nobody in. A session is valid until it has not
been used for the idle lifetime (`SESSION_IDLE_MINUTES`) or, at the latest, until its
absolute end (`SESSION_ABSOLUTE_DAYS` after sign-in). Ending a session deletes it, so the
cookie that named it names nobody. `user_id` None is a first sign-in that is not finished
(the provider's profile waits in `data` for the welcome page).

Both stores pass the same tests (tests/accounts/test_sessions.py); time is a callable the
tests replace, so lifetimes are tested without waiting.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from codebattle import redis_clients
from codebattle.accounts import service as accounts
from codebattle.accounts.models import SignInSession, User
from codebattle.config import Settings
from codebattle.db.session import Database

Clock = Callable[[], datetime]
TOUCH_EVERY = timedelta(minutes=1)  # last_seen is written at most this often per session
SWEEP_EVERY = timedelta(minutes=10)  # the database store deletes expired rows this often
SWEEP_BATCH = 500  # rows deleted by one sweep, at most
USER_AGENT_CHARS = 200
KEY = "codebattle:session:"  # Redis: one key per session (JSON), with a TTL
USER_KEY = "codebattle:user-sessions:"  # Redis: a set of a user's session hashes


def utcnow() -> datetime:
    return datetime.now(UTC)


def hash_id(plain: str) -> str:
    return hashlib.sha256(plain.encode()).hexdigest()


def new_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class StoredSession:
    id_hash: str
    user_id: int | None
    via: str
    role: str
    data: dict[str, Any]
    user_agent: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # absolute


@dataclass
class SessionStore(ABC):
    """What the web layer asks of a session store. Ids given in are the plain ids (the
    cookie's); only hashes are stored. Reads return valid sessions only."""

    idle: timedelta
    absolute: timedelta
    clock: Clock = field(default=utcnow)

    def valid(self, stored: StoredSession, now: datetime) -> bool:
        return now < stored.expires_at and now < stored.last_seen_at + self.idle

    def _new(
        self,
        user_id: int | None,
        via: str,
        role: str,
        data: dict[str, Any] | None,
        user_agent: str,
        expires_at: datetime | None,
        plain: str | None = None,
    ) -> tuple[str, StoredSession]:
        now = self.clock()
        plain = plain if plain is not None else new_id()
        end = now + self.absolute
        stored = StoredSession(
            id_hash=hash_id(plain),
            user_id=user_id,
            via=via,
            role=role,
            data=dict(data or {}),
            user_agent=user_agent[:USER_AGENT_CHARS],
            created_at=now,
            last_seen_at=now,
            expires_at=min(expires_at, end) if expires_at is not None else end,
        )
        return plain, stored

    @abstractmethod
    async def create(
        self,
        user_id: int | None,
        via: str,
        role: str = "player",
        data: dict[str, Any] | None = None,
        user_agent: str = "",
        expires_at: datetime | None = None,
        plain: str | None = None,
    ) -> str:
        """A new session; returns its plain id (for the cookie). `expires_at` keeps an
        earlier absolute end (a session rotated on a role change does not live longer);
        `plain` is the id to use (a rotation's id derived from the old one, see
        web/sessions.keep_session), else a new random one."""

    @abstractmethod
    async def get_many(self, plains: Collection[str]) -> dict[str, StoredSession]:
        """The valid sessions among these ids, by plain id, in one read."""

    async def get(self, plain: str) -> StoredSession | None:
        return (await self.get_many([plain])).get(plain)

    @abstractmethod
    async def signed_in(
        self, session: AsyncSession, plains: Collection[str]
    ) -> dict[str, tuple[StoredSession, User]]:
        """The valid, signed-in sessions among these ids with their users (read in
        `session`): one query on the database; one Redis read and one query with Redis."""

    @abstractmethod
    async def touch(self, stored: StoredSession) -> bool:
        """Record a use now, if the last one recorded is a minute old or more (a write at
        most once a minute per session). Whether it wrote."""

    @abstractmethod
    async def delete(self, plain: str) -> bool:
        """End this session (sign-out). Whether this call removed it (False if it was gone
        already: of two requests ending the same session at once, exactly one gets True)."""

    @abstractmethod
    async def delete_hash(self, user_id: int, id_hash: str) -> bool:
        """End one of this user's sessions, named by its hash (the settings page lists
        hashes, never ids). False if the user has no such session."""

    @abstractmethod
    async def delete_user(self, user_id: int, keep: str | None = None) -> int:
        """End all of a user's sessions but `keep` (a plain id), if given; how many."""

    @abstractmethod
    async def of_user(self, user_id: int) -> list[StoredSession]:
        """A user's valid sessions, the most recently used first."""

    @abstractmethod
    async def set_data(self, plain: str, data: dict[str, Any]) -> bool:
        """Replace a valid session's data (JSON-able). False if there is no such session."""

    async def sweep(self) -> int:
        """Delete expired sessions (bounded); how many. Redis expires its keys itself."""
        return 0

    async def close(self) -> None:  # noqa: B027 - only Redis holds connections
        """Release connections (Redis)."""

    def due(self, stored: StoredSession, now: datetime) -> bool:
        return now - stored.last_seen_at >= TOUCH_EVERY


def _row_to(row: SignInSession) -> StoredSession:
    return StoredSession(
        id_hash=row.id_hash,
        user_id=row.user_id,
        via=row.via,
        role=row.role,
        data=dict(row.data or {}),
        user_agent=row.user_agent,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
    )


@dataclass
class DatabaseSessionStore(SessionStore):
    """Sessions as rows of `sessions`. Expired rows are swept, at most SWEEP_BATCH at a
    time, when a session is created and the last sweep is SWEEP_EVERY old (or left a
    backlog): sweeping keeps pace with sign-ins, with no task of its own."""

    db: Database | None = None
    _last_sweep: datetime | None = None

    @property
    def database(self) -> Database:
        assert self.db is not None, "DatabaseSessionStore needs a database"
        return self.db

    def _live(self, now: datetime) -> Any:
        return (SignInSession.expires_at > now) & (SignInSession.last_seen_at > now - self.idle)

    async def create(
        self,
        user_id: int | None,
        via: str,
        role: str = "player",
        data: dict[str, Any] | None = None,
        user_agent: str = "",
        expires_at: datetime | None = None,
        plain: str | None = None,
    ) -> str:
        plain, stored = self._new(user_id, via, role, data, user_agent, expires_at, plain)
        async with self.database.session() as session:
            session.add(SignInSession(**stored.__dict__))
            await session.commit()
        now = self.clock()
        if self._last_sweep is None or now - self._last_sweep >= SWEEP_EVERY:
            # A full batch leaves a backlog: the next sign-in sweeps again.
            swept = await self.sweep()
            self._last_sweep = now if swept < SWEEP_BATCH else None
        return plain

    async def get_many(self, plains: Collection[str]) -> dict[str, StoredSession]:
        hashes = {hash_id(plain): plain for plain in plains}
        if not hashes:
            return {}
        now = self.clock()
        async with self.database.reading() as session:
            rows = await session.scalars(
                select(SignInSession).where(SignInSession.id_hash.in_(hashes), self._live(now))
            )
            return {hashes[row.id_hash]: _row_to(row) for row in rows}

    async def signed_in(
        self, session: AsyncSession, plains: Collection[str]
    ) -> dict[str, tuple[StoredSession, User]]:
        hashes = {hash_id(plain): plain for plain in plains}
        if not hashes:
            return {}
        now = self.clock()
        rows = await session.execute(
            select(SignInSession, User)
            .join(User, User.id == SignInSession.user_id)
            .where(SignInSession.id_hash.in_(hashes), self._live(now))
        )
        return {hashes[row.id_hash]: (_row_to(row), user) for row, user in rows}

    async def touch(self, stored: StoredSession) -> bool:
        now = self.clock()
        if not self.due(stored, now):
            return False
        async with self.database.session() as session:
            await session.execute(
                update(SignInSession)
                .where(SignInSession.id_hash == stored.id_hash)
                .values(last_seen_at=now)
            )
            await session.commit()
        return True

    async def _delete(self, *conditions: Any) -> int:
        async with self.database.session() as session:
            result = await session.execute(delete(SignInSession).where(*conditions))
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0)

    async def delete(self, plain: str) -> bool:
        return await self._delete(SignInSession.id_hash == hash_id(plain)) > 0

    async def delete_hash(self, user_id: int, id_hash: str) -> bool:
        return (
            await self._delete(SignInSession.id_hash == id_hash, SignInSession.user_id == user_id)
            > 0
        )

    async def delete_user(self, user_id: int, keep: str | None = None) -> int:
        conditions = [SignInSession.user_id == user_id]
        if keep is not None:
            conditions.append(SignInSession.id_hash != hash_id(keep))
        return await self._delete(*conditions)

    async def of_user(self, user_id: int) -> list[StoredSession]:
        now = self.clock()
        async with self.database.reading() as session:
            rows = await session.scalars(
                select(SignInSession)
                .where(SignInSession.user_id == user_id, self._live(now))
                .order_by(SignInSession.last_seen_at.desc(), SignInSession.created_at.desc())
            )
            return [_row_to(row) for row in rows]

    async def set_data(self, plain: str, data: dict[str, Any]) -> bool:
        now = self.clock()
        async with self.database.session() as session:
            result = await session.execute(
                update(SignInSession)
                .where(SignInSession.id_hash == hash_id(plain), self._live(now))
                .values(data=dict(data))
            )
            await session.commit()
        return int(getattr(result, "rowcount", 0) or 0) > 0

    async def sweep(self) -> int:
        now = self.clock()
        expired = (
            select(SignInSession.id_hash)
            .where(
                or_(
                    SignInSession.expires_at <= now,
                    SignInSession.last_seen_at <= now - self.idle,
                )
            )
            .limit(SWEEP_BATCH)
        )
        return await self._delete(SignInSession.id_hash.in_(expired.scalar_subquery()))


def _encode(stored: StoredSession) -> str:
    values = dict(stored.__dict__)
    for name in ("created_at", "last_seen_at", "expires_at"):
        values[name] = values[name].timestamp()
    return json.dumps(values, separators=(",", ":"))


def _decode(raw: bytes | str | None) -> StoredSession | None:
    if raw is None:
        return None
    try:
        values = json.loads(raw)
        for name in ("created_at", "last_seen_at", "expires_at"):
            values[name] = datetime.fromtimestamp(values[name], UTC)
        return StoredSession(**values)
    except (ValueError, TypeError, KeyError):
        return None  # not ours, or from another version: names nobody


@dataclass
class RedisSessionStore(SessionStore):
    """Sessions as Redis keys (JSON) whose TTL is the time left (the sooner of the idle and
    the absolute end), and a set per user of their sessions' hashes for "sign out
    everywhere" and the settings page. Reads check the lifetimes too (the TTL may be
    coarser than the store's clock)."""

    url: str = ""
    client: Any = None

    def __post_init__(self) -> None:
        if self.client is None:
            self.client = redis_clients.connect(self.url)

    def _ttl_ms(self, stored: StoredSession, now: datetime) -> int:
        end = min(stored.expires_at, stored.last_seen_at + self.idle)
        return int((end - now).total_seconds() * 1000)

    async def _put(self, stored: StoredSession, only_if_there: bool) -> bool:
        ttl = self._ttl_ms(stored, self.clock())
        if ttl <= 0:
            await self.client.delete(KEY + stored.id_hash)
            return False
        done = await self.client.set(
            KEY + stored.id_hash, _encode(stored), px=ttl, xx=only_if_there
        )
        return bool(done)

    async def create(
        self,
        user_id: int | None,
        via: str,
        role: str = "player",
        data: dict[str, Any] | None = None,
        user_agent: str = "",
        expires_at: datetime | None = None,
        plain: str | None = None,
    ) -> str:
        plain, stored = self._new(user_id, via, role, data, user_agent, expires_at, plain)
        await self._put(stored, only_if_there=False)
        if user_id is not None:
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.sadd(USER_KEY + str(user_id), stored.id_hash)
                pipe.expire(USER_KEY + str(user_id), int(self.absolute.total_seconds()) + 60)
                await pipe.execute()
        return plain

    async def _by_hash(self, hashes: list[str]) -> list[StoredSession | None]:
        if not hashes:
            return []
        now = self.clock()
        raws = await self.client.mget([KEY + h for h in hashes])
        found = [_decode(raw) for raw in raws]
        return [s if s is not None and self.valid(s, now) else None for s in found]

    async def get_many(self, plains: Collection[str]) -> dict[str, StoredSession]:
        hashes = {hash_id(plain): plain for plain in plains}
        found = await self._by_hash(list(hashes))
        return {hashes[s.id_hash]: s for s in found if s is not None}

    async def signed_in(
        self, session: AsyncSession, plains: Collection[str]
    ) -> dict[str, tuple[StoredSession, User]]:
        stored = {p: s for p, s in (await self.get_many(plains)).items() if s.user_id is not None}
        if not stored:
            return {}
        users = await accounts.users_by_ids(
            session, {s.user_id for s in stored.values() if s.user_id is not None}
        )
        return {
            plain: (s, users[s.user_id])
            for plain, s in stored.items()
            if s.user_id is not None and s.user_id in users
        }

    async def touch(self, stored: StoredSession) -> bool:
        now = self.clock()
        if not self.due(stored, now):
            return False
        return await self._put(replace(stored, last_seen_at=now), only_if_there=True)

    async def _forget(self, user_id: int | None, hashes: list[str]) -> int:
        if not hashes:
            return 0
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(*[KEY + h for h in hashes])
            if user_id is not None:
                pipe.srem(USER_KEY + str(user_id), *hashes)
            deleted, *_ = await pipe.execute()
        return int(deleted)

    async def delete(self, plain: str) -> bool:
        id_hash = hash_id(plain)
        stored = _decode(await self.client.get(KEY + id_hash))
        return await self._forget(stored.user_id if stored is not None else None, [id_hash]) > 0

    async def delete_hash(self, user_id: int, id_hash: str) -> bool:
        stored = _decode(await self.client.get(KEY + id_hash))
        if stored is None or stored.user_id != user_id:
            return False
        return await self._forget(user_id, [id_hash]) > 0

    async def delete_user(self, user_id: int, keep: str | None = None) -> int:
        members = {m.decode() for m in await self.client.smembers(USER_KEY + str(user_id))}
        if keep is not None:
            members.discard(hash_id(keep))
        return await self._forget(user_id, sorted(members))

    async def of_user(self, user_id: int) -> list[StoredSession]:
        members = sorted(m.decode() for m in await self.client.smembers(USER_KEY + str(user_id)))
        found = await self._by_hash(members)
        gone = [h for h, s in zip(members, found, strict=True) if s is None]
        if gone:  # expired keys leave their hash in the set: tidy it
            await self.client.srem(USER_KEY + str(user_id), *gone)
        alive = [s for s in found if s is not None and s.user_id == user_id]
        return sorted(alive, key=lambda s: (s.last_seen_at, s.created_at), reverse=True)

    async def set_data(self, plain: str, data: dict[str, Any]) -> bool:
        (stored,) = await self._by_hash([hash_id(plain)])
        if stored is None:
            return False
        return await self._put(replace(stored, data=dict(data)), only_if_there=True)

    async def close(self) -> None:
        await self.client.aclose()


def store_for(settings: Settings, db: Database, clock: Clock = utcnow) -> SessionStore:
    """The store the settings choose (SESSION_STORE): the database, or Redis."""
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    absolute = timedelta(days=settings.SESSION_ABSOLUTE_DAYS)
    if settings.SESSION_STORE == "redis" and settings.REDIS_URL:
        return RedisSessionStore(idle=idle, absolute=absolute, clock=clock, url=settings.REDIS_URL)
    return DatabaseSessionStore(idle=idle, absolute=absolute, clock=clock, db=db)
