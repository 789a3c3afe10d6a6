"""A question's stem images: check an upload (PNG or JPEG, at most 1 MB), keep it once, and say who may see it."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import permissions
from comp.extensions import db
from comp.models import Entrant, User
from comp.models.exam import Exam, Question, QuestionBank, QuestionImage, QuestionVersion, Sitting
from comp.services import ServiceError, transaction
from comp.services.common import audit
from comp.services.exams import bank as banks

IMAGE_BYTES = 1024 * 1024
IMAGE_TYPES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}


def store_image(user: User | None, data: bytes) -> QuestionImage:
    """Keep an uploaded PNG or JPEG (at most 1 MB) once by its content hash; refuse anything else."""
    if len(data) > IMAGE_BYTES:
        raise ServiceError(_("The image is larger than %(n)s KB.", n=IMAGE_BYTES // 1024))
    mime = next((m for magic, m in IMAGE_TYPES.items() if data.startswith(magic)), None)
    if mime is None:
        raise ServiceError(_("The image must be a PNG or JPEG picture."))
    digest = hashlib.sha256(data).hexdigest()
    found = db.session.scalar(sa.select(QuestionImage).where(QuestionImage.sha256 == digest))
    if found is not None:
        return found
    with transaction():
        image = QuestionImage(sha256=digest, mime=mime, data=data)
        db.session.add(image)
        db.session.flush()
        audit.record("question.image", user, None, image, sha256=digest, size=len(data))
    return image


def image_visible(user: User | None, image_id: int, entrant_ids: list[int]) -> bool:
    """Tell whether a stem image may be shown: to whoever manages a bank or exam using it, or sits a paper showing it.

    `entrant_ids` are the candidates the session admitted by ID number and exam code; a logged-in
    worker's own entrants count too.
    """
    if user is not None and user.role in ("admin", "organizer") and _manages_image(user, image_id):
        return True
    entrants = set(entrant_ids)
    if user is not None and user.worker_id is not None:
        entrants |= set(db.session.scalars(sa.select(Entrant.id).where(Entrant.worker_id == user.worker_id)))
    if not entrants:
        return False
    papers = db.session.scalars(sa.select(Sitting.paper).where(Sitting.entrant_id.in_(entrants)))
    shown = {item.get("v") for paper in papers for item in (paper or []) if isinstance(item, dict)}
    shown_ids = [v for v in shown if isinstance(v, int)]
    if not shown_ids:
        return False
    query = sa.select(QuestionVersion.id).where(QuestionVersion.id.in_(shown_ids), QuestionVersion.image_id == image_id)
    return db.session.scalar(query.limit(1)) is not None


def _manages_image(user: User, image_id: int) -> bool:
    """Tell whether the user manages a bank holding the image, or a competition whose exam draws from one."""
    bank_ids = set(
        db.session.scalars(
            sa.select(Question.bank_id).join(QuestionVersion).where(QuestionVersion.image_id == image_id).distinct()
        )
    )
    for held in db.session.scalars(sa.select(QuestionBank).where(QuestionBank.id.in_(bank_ids or {0}))):
        if banks.may_manage(user, held):
            return True
    exams = db.session.scalars(sa.select(Exam).where(Exam.bank_id.in_(bank_ids or {0})))
    return any(permissions.can("competition.manage", exam.competition, user) for exam in exams)
