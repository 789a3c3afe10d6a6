"""Correcting an exam's answer key (更正标准答案): checked, audited with the old and the new key, then every
sitting regraded (`grading.regrade`), so the stage and the totals follow; the key page's reads.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.exams import grading as core
from comp.exams.types import Item
from comp.extensions import db
from comp.models import AuditEvent
from comp.models.exam import Exam, Question, QuestionVersion, Sitting
from comp.models.types import plain, utcnow
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.exams.grading import TOLERANCE, hold_key, key_item, refuse_final, regrade


def parse_key(item: Item, answer: str, tolerance: str | None) -> tuple[str, Decimal | None]:
    """Check a corrected key for the item: the normalized answer and the tolerance (numeric only)."""
    text = (answer or "").strip()
    if not text:
        raise ServiceError(_("Enter the right answer."))
    try:
        normalized = core.normalize(item, text)
    except ValueError:
        raise ServiceError(_("“%(answer)s” is not an answer this question takes.", answer=text)) from None
    if not normalized or (item.kind == "single" and len(normalized) != 1):
        raise ServiceError(_("“%(answer)s” is not an answer this question takes.", answer=text))
    raw = (tolerance or "").strip()
    if item.kind != "numeric":
        if raw:
            raise ServiceError(_("Only a numeric question has a tolerance."))
        return normalized, None
    if not raw:
        return normalized, None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value != value.quantize(TOLERANCE):
        raise ServiceError(_("The tolerance is a number of 0 or more with at most six decimals."))
    return normalized, value


def correct_key(exam: Exam, version_id: int, answer: str, tolerance: str | None, reason: str, actor) -> int:
    """Correct a question version's answer key for this exam (audited, old and new), then regrade; return changes."""
    refuse_final(exam.competition)
    version = db.session.get(QuestionVersion, version_id)
    if version is None or version.question.bank_id != exam.bank_id:
        raise ServiceError(_("No such question in this exam's bank."))
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Write why the key is corrected: the reason is kept with the scores."))
    with transaction():
        # The corrections as they stand now, locked: another organizer's correction made a moment ago stays,
        # and no sitting is graded with the old key after the regrade below has read the finished ones.
        hold_key(exam, write=True)
        before = key_item(version, exam.corrections)
        normalized, value = parse_key(before, answer, tolerance)
        if normalized == before.answer and value == before.tolerance:
            raise ServiceError(_("That is the key already: nothing to correct."))
        fix = {
            "answer": normalized,
            "tolerance": None if value is None else plain(value),
            "reason": reason[:200],
            "by": getattr(actor, "id", None),
            "at": utcnow().isoformat(timespec="seconds"),
        }
        exam.corrections = {**(exam.corrections or {}), str(version.id): fix}
        audit.record(
            "exam.key_corrected",
            actor,
            exam.competition,
            exam,
            exam=exam.code,
            version=version.id,
            question=version.question.code,
            old={"answer": before.answer, "tolerance": None if before.tolerance is None else plain(before.tolerance)},
            new={"answer": fix["answer"], "tolerance": fix["tolerance"]},
            reason=fix["reason"],
            by=getattr(actor, "display_name", None),
        )
        db.session.flush()
        return regrade(exam, actor, reason)


def uses_of(exam: Exam) -> dict[int, int]:
    """Return how many papers of the exam (finished or not) carry each question version."""
    uses: dict[int, int] = {}
    for paper in db.session.scalars(sa.select(Sitting.paper).where(Sitting.exam_id == exam.id)):
        for entry in paper or ():
            uses[int(entry["v"])] = uses.get(int(entry["v"]), 0) + 1
    return uses


def versions_of(ids: Iterable[int]) -> list[QuestionVersion]:
    """Return these question versions in the order of their questions' codes."""
    return list(
        db.session.scalars(
            sa.select(QuestionVersion)
            .join(Question)
            .where(QuestionVersion.id.in_(sorted(set(ids))))
            .order_by(Question.code, QuestionVersion.number)
        )
    )


def corrections_of(exam: Exam) -> list[AuditEvent]:
    """Return the audit events of the exam's key corrections, latest first."""
    return list(
        db.session.scalars(
            sa.select(AuditEvent)
            .where(
                AuditEvent.action == "exam.key_corrected",
                AuditEvent.object_type == "exam",
                AuditEvent.object_id == exam.id,
            )
            .order_by(AuditEvent.id.desc())
        )
    )
