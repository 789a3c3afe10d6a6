"""Shared computations: one process rebuilds at a time, at most once a second per generation, in either store."""

from __future__ import annotations

import uuid

import pytest

from comp.extensions import db
from comp.services.common import computed

REDIS_URL = "redis://127.0.0.1:6379/15"


def _redis_or_skip():
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    return client


@pytest.fixture(params=["database", "redis"])
def store(request, app, make_competition, monkeypatch):
    """Yield (competition id, store) with the app configured for that store."""
    competition = make_competition(status="running")
    if request.param == "redis":
        client = _redis_or_skip()
        monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
        # Ids repeat between tests on a fresh database: start from a clean slate for this one.
        for key in client.scan_iter(f"jiangxin:computed:*:{competition.id}*"):
            client.delete(key)
    yield competition.id, computed._store()


def _shared(competition_id, stamp, calls, every=1.0):
    def build():
        calls.append(stamp)
        return {"stamp": stamp, "n": len(calls)}

    return computed.shared("board", competition_id, stamp, build, repr, eval, every)  # noqa: S307 - test payloads


def test_a_claim_is_held_by_one_until_written_or_released(store):
    competition_id, shared_store = store
    assert shared_store.claim("board", competition_id) is True
    assert shared_store.claim("board", competition_id) is False
    shared_store.write("board", competition_id, "1.0.0", "{}")
    assert shared_store.claim("board", competition_id) is True
    shared_store.release("board", competition_id)
    assert shared_store.claim("board", competition_id) is True


def test_built_once_per_stamp_and_throttled_within_a_generation(store, monkeypatch):
    competition_id, _ = store
    clock = [1_000_000.0]
    monkeypatch.setattr(computed.time, "time", lambda: clock[0])
    calls: list[str] = []
    assert _shared(competition_id, "1.0.0", calls) == ({"stamp": "1.0.0", "n": 1}, "1.0.0")
    assert _shared(competition_id, "1.0.0", calls)[1] == "1.0.0" and len(calls) == 1
    clock[0] += 0.3
    value, stamp = _shared(competition_id, "1.5.9", calls)  # marks moved: wait out the second
    assert (stamp, len(calls)) == ("1.0.0", 1)
    clock[0] += 1.0
    assert _shared(competition_id, "1.5.9", calls)[1] == "1.5.9" and len(calls) == 2
    clock[0] += 0.1
    assert _shared(competition_id, "2.5.9", calls)[1] == "2.5.9" and len(calls) == 3  # a new generation: at once


def test_while_another_process_rebuilds_the_stored_value_is_served(store, monkeypatch):
    competition_id, shared_store = store
    calls: list[str] = []
    _shared(competition_id, "1.0.0", calls, every=0)
    assert shared_store.claim("board", competition_id)  # another process is rebuilding
    assert _shared(competition_id, "1.1.1", calls, every=0) == ({"stamp": "1.0.0", "n": 1}, "1.0.0")
    assert len(calls) == 1


def test_a_failed_build_releases_the_claim(store):
    competition_id, shared_store = store

    def broken():
        raise RuntimeError(uuid.uuid4().hex)

    with pytest.raises(RuntimeError):
        computed.shared("board", competition_id, "1.0.0", broken, repr, eval)  # noqa: S307
    assert shared_store.claim("board", competition_id) is True


def test_a_text_key_is_shared_like_a_competition(store):
    _competition_id, _ = store
    key = f"city:{uuid.uuid4().hex[:8]}"
    calls: list[str] = []
    assert _shared(key, "1.0", calls) == ({"stamp": "1.0", "n": 1}, "1.0")
    assert _shared(key, "1.0", calls)[1] == "1.0" and len(calls) == 1  # served, not built again


def test_two_databases_sharing_one_redis_keep_apart(app):
    client = _redis_or_skip()
    one, other = computed.RedisStore(client, "db-one"), computed.RedisStore(client, "db-two")
    key = uuid.uuid4().hex[:8]
    one.write("board", key, "1.0.0", '{"of": "one"}')
    try:
        assert other.read("board", key) is None
        assert one.read("board", key).payload == '{"of": "one"}'
    finally:
        client.delete(one._key("board", key))


def test_the_redis_namespace_follows_the_database(app, monkeypatch):
    _redis_or_skip()
    monkeypatch.setitem(app.config, "REDIS_URL", REDIS_URL)
    store = computed._store()
    assert isinstance(store, computed.RedisStore)
    assert store.prefix == f"jiangxin:computed:{computed._database_digest()}:"
    assert "password" not in store.prefix and len(computed._database_digest()) == 12


def test_a_competitions_rows_go_with_it(app, make_competition):
    competition = make_competition(status="running")
    store = computed.DatabaseStore()
    assert store.claim("board", competition.id)
    store.write("board", competition.id, "1.0.0", "{}")
    assert store.claim("dashboard", "city:all")
    store.write("dashboard", "city:all", "a.1", "{}")
    db.session.delete(competition)
    db.session.commit()
    assert store.read("board", competition.id) is None
    assert store.read("dashboard", "city:all") is not None
