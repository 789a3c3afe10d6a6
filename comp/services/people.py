"""Workers: set their protected ID numbers and find them by number."""
from __future__ import annotations

import sqlalchemy as sa

from comp import idcard
from comp.extensions import db
from comp.models import Worker


def set_id_number(worker: Worker, number: str | None) -> None:
    """Validate and store an ID number encrypted, with its look-up hash and mask."""
    if not number:
        worker.id_cipher = worker.id_hash = worker.id_masked = None
        return
    value = idcard.normalize(number)
    protector = idcard.protector()
    worker.id_cipher = protector.encrypt(value)
    worker.id_hash = protector.lookup_hash(value)
    worker.id_masked = idcard.mask(value)
    worker.birth_date = idcard.birth_date(value)
    worker.gender = idcard.gender(value)


def id_number(worker: Worker) -> str | None:
    """Return the worker's full ID number (for audited exports only)."""
    return idcard.protector().decrypt(worker.id_cipher) if worker.id_cipher else None


def find_by_id_number(number: str) -> Worker | None:
    """Return the worker with this ID number, if any."""
    value = idcard.normalize(number)
    digest = idcard.protector().lookup_hash(value)
    return db.session.scalar(sa.select(Worker).where(Worker.id_hash == digest))
