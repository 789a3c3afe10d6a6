"""Domain verbs: they read and write the database, call scoring, and own the transaction."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

from comp.extensions import db


class ServiceError(ValueError):
    """A refused action, with a message the user can read."""


@contextmanager
def transaction() -> Iterator[None]:
    """Commit the work done inside, or roll all of it back on any error."""
    try:
        yield
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
