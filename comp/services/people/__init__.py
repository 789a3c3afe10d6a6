"""Workers: set their protected ID numbers and find them by number."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from comp import idcard
from comp.extensions import db
from comp.models import Worker


def protected_fields(number: str | None) -> dict:
    """Return the stored form of an ID number: cipher, look-up hash, mask, birth year, gender.

    Only the year of birth is kept in the clear: with the mask's first 4 and last 4 characters
    a full birth date would leave two unknown digits (about ten candidates per number).
    """
    if not number:
        return {"id_cipher": None, "id_hash": None, "id_masked": None, "birth_year": None, "gender": None}
    value = idcard.normalize(number)
    protector = idcard.protector()
    return {
        "id_cipher": protector.encrypt(value),
        "id_hash": protector.lookup_hash(value),
        "id_masked": idcard.mask(value),
        "birth_year": idcard.birth_date(value).year,
        "gender": idcard.gender(value),
    }


def set_id_number(worker: Worker, number: str | None) -> None:
    """Validate and store an ID number encrypted, with its look-up hash and mask."""
    for field, value in protected_fields(number).items():
        setattr(worker, field, value)


def id_number(worker: Worker) -> str | None:
    """Return the worker's full ID number (for audited exports only)."""
    return idcard.protector().decrypt(worker.id_cipher) if worker.id_cipher else None


def birth_date(worker: Worker) -> date | None:
    """Return the worker's birth date, read from the encrypted ID number (not stored in the clear)."""
    number = id_number(worker)
    return idcard.birth_date(number) if number else None


def find_by_id_number(number: str) -> Worker | None:
    """Return the worker with this ID number, if any."""
    value = idcard.normalize(number)
    digest = idcard.protector().lookup_hash(value)
    return db.session.scalar(sa.select(Worker).where(Worker.id_hash == digest))


def masked_phone(phone: str | None) -> str:
    """Show a phone number as 138****5678: enough to recognise, not to call."""
    digits = (phone or "").strip()
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "*" * len(digits)
