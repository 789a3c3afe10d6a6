"""What /healthz checks: a registry of named checks any component can add to.

A check is a function of no arguments, run inside the app context of the /healthz request:
it returns True when its part works, False when it does not (raising counts as False, and the
error is logged, never shown), or None when its part is not configured in this app (then it is
left out of the answer). It may instead return a dict of figures worth showing (JSON values):
that passes unless the dict says `"ok": False`, and /healthz?verbose shows it under `details`.
Built in: `database` (always) and `redis` (when REDIS_URL is set).

The job queue adds its own, once at import or in its init_app:

    from comp import health
    health.register("jobs", jobs.state)   # {"queued": 3, "running": 1, ...}

Registering a name again replaces its check; the answer lists checks in registration order.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from flask import current_app

log = logging.getLogger(__name__)

Check = Callable[[], bool | Mapping[str, Any] | None]
REDIS_TIMEOUT = 1.0  # seconds: a health check answers quickly or says the part is down

_CHECKS: dict[str, Check] = {}


def register(name: str, check: Check) -> None:
    """Add (or replace) the check called `name`."""
    _CHECKS[name] = check


def unregister(name: str) -> None:
    """Remove the check called `name`, if there is one."""
    _CHECKS.pop(name, None)


def run() -> dict[str, tuple[bool, dict[str, Any] | None]]:
    """Run every check that applies to this app: name → (whether it passed, the figures it gave)."""
    results: dict[str, tuple[bool, dict[str, Any] | None]] = {}
    for name, check in list(_CHECKS.items()):
        try:
            answer = check()
        except Exception as error:  # one line, not a traceback: a probe every few seconds during an outage
            log.warning("health check %r failed: %s: %s", name, type(error).__name__, error)
            answer = False
        if answer is None:
            continue
        if isinstance(answer, Mapping):
            details = dict(answer)
            results[name] = (details.get("ok", True) is not False, details)
        else:
            results[name] = (bool(answer), None)
    return results


def _database() -> bool:
    from comp import database

    return database.ping()


def _redis() -> bool | None:
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    return bool(_redis_client(url).ping())


def _redis_client(url: str) -> Any:
    """Return this app's Redis client for health checks: short timeouts, so a dead Redis cannot hang /healthz."""
    clients = current_app.extensions.setdefault("jiangxin.health.redis", {})
    if url not in clients:
        import redis

        clients[url] = redis.Redis.from_url(url, socket_timeout=REDIS_TIMEOUT, socket_connect_timeout=REDIS_TIMEOUT)
    return clients[url]


register("database", _database)
register("redis", _redis)
