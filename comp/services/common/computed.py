"""Computations every app process shares: built once per stamp, rebuilt at most once a second.

A hall screen's board, a competition's results and the city dashboard's figures are expensive
(every mark, the engine, the city's GROUP BYs) and asked for by many screens in several app
processes at once. Each is stored with the *stamp* it
was built from (which marks, which competition version): a process whose stamp matches takes the
stored payload; a stale one is rebuilt by exactly one process at a time (it *claims* the rebuild),
and at most once per `every` seconds — the others keep showing the stored payload meanwhile.
A stamp reads "<generation>.<rest>": only changes within one generation wait (a judge's mark moves
the rest; a status change, a check-in or a lock starts a new generation and is rebuilt at once).

The store is Redis when `REDIS_URL` is configured, else the `computed` table of the database, so
one machine needs nothing more and several app servers agree. Payloads are JSON text. A
computation is named by its kind and its *key*: a competition's id (its rows go with it), or a
text such as "city:2026". Redis keys carry a digest of the database's address, so two
databases sharing one Redis never read each other's boards.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult

from comp import metrics
from comp.extensions import db
from comp.models import Computed
from comp.models.types import utcnow
from comp.services import transaction

T = TypeVar("T")
CLAIM_SECONDS = 30  # a process that dies while rebuilding holds the claim this long at most
EPOCH = datetime(1970, 1, 1)


@dataclass(frozen=True)
class Stored:
    """What the store holds for one computation."""

    stamp: str
    built_at: float  # seconds since the epoch
    payload: str


class Store(Protocol):
    """Where shared computations live."""

    def read(self, kind: str, key: int | str) -> Stored | None: ...

    def claim(self, kind: str, key: int | str) -> bool: ...

    def write(self, kind: str, key: int | str, stamp: str, payload: str) -> None: ...

    def release(self, kind: str, key: int | str) -> None: ...


def shared(
    kind: str,
    key: int | str,
    stamp: str,
    build: Callable[[], T],
    encode: Callable[[T], str],
    decode: Callable[[str], T],
    every: float = 1.0,
) -> tuple[T, str]:
    """Return the value for `stamp` and the stamp it was built from, building it only when needed.

    The stamp returned can be older than the one asked for while another process rebuilds, or
    within `every` seconds of the last rebuild; a caller shows it and asks again later.
    """
    store = _store()
    stored = store.read(kind, key)
    if stored is not None and stored.payload:
        fresh = stored.stamp == stamp or (
            _generation(stored.stamp) == _generation(stamp) and time.time() - stored.built_at < every
        )
        if fresh or not store.claim(kind, key):
            metrics.shared_build(kind, "served")
            return decode(stored.payload), stored.stamp
    elif not store.claim(kind, key):
        metrics.shared_build(kind, "built")
        return build(), stamp  # another process is building the first one: do not wait for it
    try:
        value = build()
        store.write(kind, key, stamp, encode(value))
    except BaseException:
        store.release(kind, key)
        raise
    metrics.shared_build(kind, "rebuilt")
    return value, stamp


def forget(kind: str) -> None:
    """Drop every stored computation of a kind (tests, and after bulk changes)."""
    store = _store()
    if isinstance(store, RedisStore):
        for name in store.client.scan_iter(store._key(kind, "*")):
            store.client.delete(name)
        return
    with transaction():
        db.session.execute(sa.delete(Computed).where(Computed.kind == kind))


def _generation(stamp: str) -> str:
    return stamp.partition(".")[0]


def _store() -> Store:
    url = current_app.config.get("REDIS_URL")
    if url:
        return RedisStore(_redis(url), _database_digest())
    return DatabaseStore()


def _database_digest() -> str:
    """Return a short digest of the database's address (without its password): the Redis keys' namespace."""
    address = db.engine.url.render_as_string(hide_password=True)
    return hashlib.sha256(address.encode()).hexdigest()[:12]


def _where(key: int | str) -> sa.ColumnElement[bool]:
    return Computed.scope == str(key)


def _redis(url: str) -> Any:
    """Return this app's Redis client (one connection pool per process)."""
    clients = current_app.extensions.setdefault("jiangxin.redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url)
    return clients[url]


class DatabaseStore:
    """The `computed` table: a row per kind and scope (the key as text); a claim is a time in the row."""

    def read(self, kind: str, key: int | str) -> Stored | None:
        row = db.session.execute(
            sa.select(Computed.stamp, Computed.built_at, Computed.payload).where(Computed.kind == kind, _where(key))
        ).first()
        if row is None:
            return None
        return Stored(row.stamp, (row.built_at - EPOCH).total_seconds(), row.payload)

    def claim(self, kind: str, key: int | str) -> bool:
        now = utcnow()
        until = now + timedelta(seconds=CLAIM_SECONDS)
        with transaction():
            claimed = _rows(
                db.session.execute(
                    sa.update(Computed)
                    .where(
                        Computed.kind == kind,
                        _where(key),
                        sa.or_(Computed.claimed_until.is_(None), Computed.claimed_until < now),
                    )
                    .values(claimed_until=until)
                    .execution_options(synchronize_session=False)
                )
            )
            if not claimed:
                values = {
                    "kind": kind,
                    "scope": str(key),
                    "competition_id": key if isinstance(key, int) else None,
                    "stamp": "",
                    "built_at": EPOCH,
                    "claimed_until": until,
                    "payload": "",
                }
                # RETURNING says whether the row went in: drivers disagree on an upsert's row count.
                table = Computed.__table__
                insert = (postgresql if db.engine.dialect.name == "postgresql" else sqlite).insert(table)
                added = db.session.execute(insert.values(values).on_conflict_do_nothing().returning(table.c.kind))
                claimed = 1 if added.first() is not None else 0
        return claimed == 1

    def write(self, kind: str, key: int | str, stamp: str, payload: str) -> None:
        with transaction():
            db.session.execute(
                sa.update(Computed)
                .where(Computed.kind == kind, _where(key))
                .values(
                    stamp=stamp, built_at=EPOCH + timedelta(seconds=time.time()), claimed_until=None, payload=payload
                )
                .execution_options(synchronize_session=False)
            )

    def release(self, kind: str, key: int | str) -> None:
        with transaction():
            db.session.execute(
                sa.update(Computed)
                .where(Computed.kind == kind, _where(key))
                .values(claimed_until=None)
                .execution_options(synchronize_session=False)
            )


def _rows(result: object) -> int:
    return cast("CursorResult[Any]", result).rowcount


class RedisStore:
    """A hash per kind and key; a claim is a key that expires by itself."""

    def __init__(self, client: Any, namespace: str = "") -> None:
        self.client = client
        self.prefix = f"jiangxin:computed:{namespace}:" if namespace else "jiangxin:computed:"

    def _key(self, kind: str, key: int | str) -> str:
        return f"{self.prefix}{kind}:{key}"

    def read(self, kind: str, key: int | str) -> Stored | None:
        values = self.client.hgetall(self._key(kind, key))
        if not values:
            return None
        return Stored(values[b"stamp"].decode(), float(values[b"built_at"]), values[b"payload"].decode())

    def claim(self, kind: str, key: int | str) -> bool:
        return bool(self.client.set(self._key(kind, key) + ":claim", "1", nx=True, ex=CLAIM_SECONDS))

    def write(self, kind: str, key: int | str, stamp: str, payload: str) -> None:
        name = self._key(kind, key)
        pipe = self.client.pipeline()
        pipe.hset(name, mapping={"stamp": stamp, "built_at": repr(time.time()), "payload": payload})
        pipe.delete(name + ":claim")
        pipe.execute()

    def release(self, kind: str, key: int | str) -> None:
        self.client.delete(self._key(kind, key) + ":claim")
