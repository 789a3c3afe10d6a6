"""The password policy, the same for every way a password is set: forms, links, the command line.

At least 10 characters; not the username (nor containing it), nor the person's ID or phone
number; not one of the common passwords shipped with the app; not a run of one or two
characters. Hashes stay Werkzeug's (`User.set_password`).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from flask_babel import gettext as _

from comp.services import ServiceError, people

MIN_LENGTH = 10
MAX_LENGTH = 128  # longer passwords only cost hashing time
COMMON = Path(__file__).resolve().parents[2] / "data" / "common-passwords.txt"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """Return the shipped list of common passwords, lower-cased."""
    with COMMON.open(encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def _sequential(text: str) -> bool:
    """Tell whether the characters climb or fall by one all the way: 0123456789, 9876543210, abcdefghij."""
    steps = {ord(b) - ord(a) for a, b in zip(text, text[1:])}
    return steps in ({1}, {-1})


def problems(password: str, username: str = "", personal: tuple[str, ...] = ()) -> list[str]:
    """Return what is wrong with a new password, in the user's language (empty: it is acceptable)."""
    found: list[str] = []
    password = password or ""
    if len(password) < MIN_LENGTH:
        found.append(_("Use at least %(n)s characters (this one has %(count)s).", n=MIN_LENGTH, count=len(password)))
    elif len(password) > MAX_LENGTH:
        found.append(_("Use at most %(n)s characters.", n=MAX_LENGTH))
    lowered = password.lower()
    name = (username or "").strip().lower()
    if name and (lowered == name or (len(name) >= 3 and name in lowered)):
        found.append(_("The password must not contain the username."))
    if any(p and len(p) >= 6 and p.lower() in lowered for p in personal):
        found.append(_("The password must not contain your ID number or phone number."))
    if lowered in common_passwords():
        found.append(_("This password is on the list of common passwords that are tried first. Choose another."))
    elif len(password) >= MIN_LENGTH and (len(set(lowered)) <= 2 or _sequential(lowered)):
        found.append(_("The password is too simple: avoid repeated or consecutive characters."))
    return found


def personal_of(user) -> tuple[str, ...]:
    """Return the ID and phone numbers of the worker record tied to the account, if any."""
    worker = getattr(user, "worker", None)
    if worker is None:
        return ()
    return tuple(value for value in (people.id_number(worker), worker.phone) if value)


def check(password: str, username: str = "", personal: tuple[str, ...] = ()) -> None:
    """Raise ServiceError with every problem of the password, or return when it is acceptable."""
    found = problems(password, username, personal)
    if found:
        raise ServiceError(" ".join(found))
