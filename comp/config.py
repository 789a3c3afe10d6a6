"""Settings read from the environment, and the configuration the tests use."""

from __future__ import annotations

import ipaddress
import os
import secrets
import tempfile
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path

DEV_ENVS = {"development", "test"}
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _instance_dir() -> Path:
    """Return the instance folder, created on demand."""
    path = Path(os.environ.get("JIANGXIN_INSTANCE", Path(__file__).resolve().parent.parent / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dev_secret(instance: Path, name: str = "dev-secret-key") -> str:
    """Return a development secret kept under instance/ so sessions survive restarts."""
    path = instance / name
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


# Settings that production must be given: name → why.
REQUIRED = {
    "SECRET_KEY": "signs sessions, CSRF tokens and activation links",
    "CERT_KEY": "keys the verification codes printed on certificates (rotating it voids every printed QR code)",
    "DATA_KEY": "protects the stored ID-card numbers (without it they cannot be read again: back it up)",
    "PUBLIC_BASE_URL": "the address printed in certificate QR codes and activation links "
    "(e.g. https://jiangxin.example.org)",
}
DEV_DEFAULTS = {"PUBLIC_BASE_URL": "http://127.0.0.1:5000"}


def _required(env: str, instance: Path) -> dict[str, str]:
    """Return the required settings; outside development refuse to start when one is missing, naming each."""
    values = {name: os.environ.get(name, "").strip() for name in REQUIRED}
    missing = [name for name, value in values.items() if not value]
    if missing and env not in DEV_ENVS:
        lines = [f"  {name}: {REQUIRED[name]}" for name in missing]
        raise RuntimeError(
            "Jiangxin will not start without these settings:\n" + "\n".join(lines) + "\n"
            "Make a secret with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`, "
            "or set JIANGXIN_ENV=development for a local run."
        )
    for name in missing:
        values[name] = DEV_DEFAULTS.get(name) or _dev_secret(
            instance, "dev-secret-key" if name == "SECRET_KEY" else f"dev-{name.lower().replace('_', '-')}"
        )
    if "DATA_KEY" in missing:
        values["DATA_KEY"] = ""  # development derives it from SECRET_KEY, as databases made before it did
    return values


def _hours(name: str, default: float) -> timedelta:
    raw = os.environ.get(name, "").strip()
    try:
        hours = float(raw) if raw else default
    except ValueError:
        raise RuntimeError(f"{name} must be a number of hours, not {raw!r}") from None
    if not 0 < hours <= 24 * 31:
        raise RuntimeError(f"{name} must be between 0 and 744 hours, not {raw!r}")
    return timedelta(hours=hours)


def networks(value: str | Iterable[str | IPNetwork] | None, name: str = "METRICS_ALLOW") -> tuple[IPNetwork, ...]:
    """Parse an address list: networks (CIDR) or single addresses, separated by commas or spaces."""
    if not value:
        return ()
    parsed: list[IPNetwork] = []
    for item in value.replace(",", " ").split() if isinstance(value, str) else value:
        if isinstance(item, ipaddress.IPv4Network | ipaddress.IPv6Network):
            parsed.append(item)
            continue
        try:
            parsed.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            raise RuntimeError(f"{name} must list networks or addresses such as 10.0.0.0/8, not {item!r}") from None
    return tuple(parsed)


def from_environment() -> dict:
    """Build the configuration from the process environment."""
    env = os.environ.get("JIANGXIN_ENV", "production")
    instance = _instance_dir()
    required = _required(env, instance)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'jiangxin.db'}"
    secure = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    lifetime = _hours("SESSION_HOURS", SESSION_HOURS)
    return {
        "JIANGXIN_ENV": env,
        **required,
        "SQLALCHEMY_DATABASE_URI": url,
        "REDIS_URL": os.environ.get("REDIS_URL") or None,  # shared boards and results; the database when unset
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "PROXY_FIX": os.environ.get("PROXY_FIX", "0") == "1",
        # /metrics: a bearer token and/or the addresses Prometheus scrapes from; neither → no /metrics at all.
        "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", "").strip() or None,
        "METRICS_ALLOW": networks(os.environ.get("METRICS_ALLOW", "")),
        "CERTIFICATE_BATCH_FOLDER": str(instance / "batches"),
        "EXPORT_FOLDER": str(instance / "exports"),  # big exports, written by the job worker (kept a day)
        "EXPORT_INLINE_ROWS": int(os.environ.get("EXPORT_INLINE_ROWS", "5000")),  # above: an export is a job
        # The job queue (comp.jobs): Redis when set (several app servers), else a SQLite file beside the database.
        "JOBS_URL": os.environ.get("JOBS_URL") or os.environ.get("REDIS_URL") or f"sqlite:///{instance / 'jobs.db'}",
        "JOBS_STALLED_AFTER": int(os.environ.get("JOBS_STALLED_AFTER", "600")),  # seconds without progress
        "PERMANENT_SESSION_LIFETIME": lifetime,
        "WTF_CSRF_TIME_LIMIT": int(lifetime.total_seconds()),
    }


# A session lasts one judging day from its login: a hall opens early and a final runs late.
SESSION_HOURS = 14


BASE = {
    "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": {"zh": "中文", "en": "English"},
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "PERMANENT_SESSION_LIFETIME": timedelta(hours=SESSION_HOURS),
    # The cookie expires when its server-side session does, both fixed at login: signing it again on
    # every answer (static files too) would cost each request a Set-Cookie and move nothing.
    "SESSION_REFRESH_EACH_REQUEST": False,
    # A form's token lasts as long as the session it belongs to, then the form asks for a reload.
    "WTF_CSRF_TIME_LIMIT": SESSION_HOURS * 3600,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    # Failed logins: per account and address, and per address whatever the account (a hall's
    # tablets may share one address behind its router, so the second limit is wider).
    "LOGIN_LIMIT": "5 per minute",
    "LOGIN_IP_LIMIT": "20 per minute",
    "SIGNUP_LIMIT": "5 per hour",
    "ACTIVATE_LIMIT": "20 per hour",
}


def test_config(database_url: str) -> dict:
    """Return the settings for the test suite on the given database."""
    return {
        "TESTING": True,
        "JIANGXIN_ENV": "test",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "CERT_KEY": "test-certificate-key-not-for-production",
        "DATA_KEY": "",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "http://testserver",
        "SESSION_COOKIE_SECURE": False,
        "PROXY_FIX": False,
        "JOBS_IMMEDIATE": True,  # a job runs as it is queued; tests/certs/test_batch_worker.py runs a real worker
        # Export files of the whole run in one scratch folder, not the checkout's instance folder.
        "EXPORT_FOLDER": tempfile.mkdtemp(prefix="jiangxin-exports-"),
    }
