"""Settings read from the environment, and the configuration the tests use."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

DEV_ENVS = {"development", "test"}


def _instance_dir() -> Path:
    """Return the instance folder, created on demand."""
    path = Path(os.environ.get("JIANGXIN_INSTANCE", Path(__file__).resolve().parent.parent / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _dev_secret(instance: Path) -> str:
    """Return a development secret kept under instance/ so sessions survive restarts."""
    path = instance / "dev-secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def from_environment() -> dict:
    """Build the configuration from the process environment."""
    env = os.environ.get("JIANGXIN_ENV", "production")
    instance = _instance_dir()
    secret = os.environ.get("SECRET_KEY")
    if not secret:
        if env not in DEV_ENVS:
            raise RuntimeError(
                "SECRET_KEY is not set. Set it (e.g. `python -c 'import secrets;"
                " print(secrets.token_urlsafe(48))'`), or JIANGXIN_ENV=development for a local run."
            )
        secret = _dev_secret(instance)
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{instance / 'jiangxin.db'}"
    secure = os.environ.get("SESSION_COOKIE_SECURE", "0") == "1"
    return {
        "JIANGXIN_ENV": env,
        "SECRET_KEY": secret,
        "DATA_KEY": os.environ.get("DATA_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_STORAGE_URI": os.environ.get("REDIS_URL") or "memory://",
        "PUBLIC_BASE_URL": os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:5000"),
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "PROXY_FIX": os.environ.get("PROXY_FIX", "0") == "1",
    }


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
    "WTF_CSRF_TIME_LIMIT": None,
    "RATELIMIT_HEADERS_ENABLED": True,
    "RATELIMIT_STRATEGY": "moving-window",
    "LOGIN_LIMIT": "5 per minute",
}


def test_config(database_url: str) -> dict:
    """Return the settings for the test suite on the given database."""
    return {
        "TESTING": True,
        "JIANGXIN_ENV": "test",
        "SECRET_KEY": "test-secret-key-not-for-production",
        "DATA_KEY": "",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_STORAGE_URI": "memory://",
        "PUBLIC_BASE_URL": "http://testserver",
        "SESSION_COOKIE_SECURE": False,
        "PROXY_FIX": False,
    }
