"""Kept spreadsheet uploads, shared by every import: keep, find, report, pick the rows, forget.

An upload is parsed and checked once and kept (table `upload`) for its preview; confirming checks
the rows again and imports them in one transaction. Uploads older than a day are purged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.models import Upload, User
from comp.models.types import utcnow
from comp.services import ServiceError, transaction

KEPT_FOR = timedelta(days=1)


def keep(kind: str, user: User, filename: str, rows: list[dict], problems: list[dict], **extra: Any) -> Upload:
    """Keep a checked upload for its preview, purging this kind's uploads older than a day."""
    with transaction():
        db.session.execute(sa.delete(Upload).where(Upload.kind == kind, Upload.created_at < utcnow() - KEPT_FOR))
        upload = Upload(
            token=secrets.token_urlsafe(24),
            kind=kind,
            user_id=user.id,
            filename=filename[:200],
            rows=rows,
            problems=problems,
            **extra,
        )
        db.session.add(upload)
    return upload


def find(kind: str, user: User, token: str, **extra: Any) -> Upload | None:
    """Return the user's own kept upload of this kind (and, say, this competition)."""
    query = sa.select(Upload).where(Upload.token == token, Upload.kind == kind, Upload.user_id == user.id)
    for column, value in extra.items():
        query = query.where(getattr(Upload, column) == value)
    return db.session.scalar(query)


def report(upload: Upload, labels: Mapping[str, str] | None = None) -> dict:
    """Return every problem, every row with its problems, and the counts of rows and of rows with problems.

    `labels` names each column in the user's language as the page is shown, whatever the language
    the upload was checked in.
    """
    problems = [
        {**p, "column": labels[p["field"]]} if labels is not None and p.get("field") in labels else p
        for p in upload.problems
    ]
    by_row: dict[int, list[dict]] = {}
    for problem in problems:
        by_row.setdefault(problem["row"], []).append(problem)
    rows = [{**row, "problems": by_row.get(row["row"], [])} for row in upload.rows]
    return {"upload": upload, "problems": problems, "rows": rows, "bad": len(by_row), "valid": len(rows) - len(by_row)}


def rows_to_import(rows: list[dict], problems: list[dict], only_valid: bool) -> list[dict]:
    """Return the rows to import: all when every row is valid, the valid ones when asked; else refuse."""
    bad = {p["row"] for p in problems}
    if bad and not only_valid:
        raise ServiceError(
            _(
                "%(count)s rows have problems: nothing was imported. Fix the file and "
                "upload it again, or import only the valid rows.",
                count=len(bad),
            )
        )
    valid = [r for r in rows if r["row"] not in bad]
    if not valid:
        raise ServiceError(_("No row is valid: nothing to import."))
    return valid


def forget(upload: Upload) -> None:
    """Forget an upload without importing anything."""
    with transaction():
        db.session.delete(upload)
