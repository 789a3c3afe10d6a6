"""Theory exams (理论机考): question banks, exams drawn per candidate, timed sittings and their answers.

A question keeps every version it ever had; a paper names the versions it was drawn with, so an
edited question never changes a paper already drawn. A sitting is one candidate's paper, clock and
answers; its score is written as the theory criterion's mark (aggregation `single`) when it ends.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so

from comp.extensions import Model
from comp.models.competition import Competition, Criterion, Entrant
from comp.models.people import OrgUnit, User, _in
from comp.models.types import Scaled, utcnow

QUESTION_KINDS = ("single", "multiple", "truefalse", "numeric")  # 单选 多选 判断 数值
MULTIPLE_RULES = ("all", "partial")  # all or nothing (the default); partial credit for a subset of right options
EXAM_STATES = ("draft", "ready", "closed")  # set up; candidates may sit in the window; closed and final
FINISHED_BY = ("candidate", "time", "proctor")  # who ended the sitting: the candidate, the clock, the proctor
SITTING_EVENTS = ("start", "takeover", "focus", "extend", "submit", "resume")


class QuestionBank(Model):
    """A bank of questions for one trade (题库), kept by a union."""

    __tablename__ = "question_bank"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    name: so.Mapped[str] = so.mapped_column(sa.String(120))
    trade: so.Mapped[str] = so.mapped_column(sa.String(64), index=True)
    owner_unit_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("org_unit.id"), index=True)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    owner_unit: so.Mapped[OrgUnit | None] = so.relationship()
    questions: so.Mapped[list[Question]] = so.relationship(back_populates="bank", order_by="Question.id")


class Question(Model):
    """A question of a bank; what it asks lives in its versions, the latest (`current`) drawn into new papers."""

    __tablename__ = "question"
    __table_args__ = (sa.UniqueConstraint("bank_id", "code"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    bank_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question_bank.id", ondelete="CASCADE"), index=True)
    # The organizer's own number for it (题号), unique in the bank; imports match rows to questions by it.
    code: so.Mapped[str] = so.mapped_column(sa.String(40))
    # A retired question is never drawn again; papers already drawn keep it.
    retired: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)

    bank: so.Mapped[QuestionBank] = so.relationship(back_populates="questions")
    versions: so.Mapped[list[QuestionVersion]] = so.relationship(
        back_populates="question", order_by="QuestionVersion.number", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> QuestionVersion:
        """Return the latest version, the one a new paper draws."""
        return self.versions[-1]


class QuestionImage(Model):
    """An image shown in a stem (a gauge, a tea leaf), stored once by its content hash."""

    __tablename__ = "question_image"

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sha256: so.Mapped[str] = so.mapped_column(sa.String(64), unique=True)
    mime: so.Mapped[str] = so.mapped_column(sa.String(32))
    data: so.Mapped[bytes] = so.mapped_column(sa.LargeBinary)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class QuestionVersion(Model):
    """One version of a question, never changed once a paper may use it: edits add a version.

    `options` are the option texts in their stored order (A, B, C …); `answer` is the stored letters of
    the right options ("B", "ACD"), "T" or "F" for true/false, or a decimal for a numeric answer, which is
    right within `tolerance` either side.
    """

    __tablename__ = "question_version"
    __table_args__ = (
        sa.UniqueConstraint("question_id", "number"),
        sa.CheckConstraint(_in("kind", QUESTION_KINDS), name="kind"),
        sa.CheckConstraint("difficulty BETWEEN 1 AND 5", name="difficulty"),
        sa.CheckConstraint("tolerance IS NULL OR tolerance >= 0", name="tolerance"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    question_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question.id", ondelete="CASCADE"), index=True)
    number: so.Mapped[int] = so.mapped_column(default=1)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    stem: so.Mapped[str] = so.mapped_column(sa.Text)
    options: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    answer: so.Mapped[str] = so.mapped_column(sa.String(64))
    tolerance: so.Mapped[Decimal | None] = so.mapped_column(Scaled(6))
    explanation: so.Mapped[str] = so.mapped_column(sa.Text, default="")
    area: so.Mapped[str] = so.mapped_column(sa.String(64), default="")  # 知识点
    difficulty: so.Mapped[int] = so.mapped_column(default=3)  # 1 易 … 5 难
    source: so.Mapped[str] = so.mapped_column(sa.String(120), default="")
    image_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("question_image.id"))
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    question: so.Mapped[Question] = so.relationship(back_populates="versions")
    image: so.Mapped[QuestionImage | None] = so.relationship()


class Exam(Model):
    """A theory exam of a competition: its blueprint, window and duration, feeding one `single` criterion.

    `blueprint` is {"sections": [{"kind", "count", "points", "area", "difficulty"}], "multiple": "all" |
    "partial", "shuffle_items": bool, "shuffle_options": bool}. Each candidate's paper is drawn from
    `seed` and their entrant ref, so any paper can be drawn again and compared. `corrections` holds the
    answer-key corrections by question-version id: {"<id>": {"answer", "tolerance", "reason", "by", "at"}}.
    """

    __tablename__ = "exam"
    __table_args__ = (
        sa.CheckConstraint(_in("status", EXAM_STATES), name="status"),
        sa.CheckConstraint("duration_minutes > 0", name="duration"),
        sa.CheckConstraint("closes_at > opens_at", name="window"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    competition_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("competition.id", ondelete="CASCADE"), index=True)
    # The criterion the score is written to (aggregation `single`), and the judge it is written as.
    criterion_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("criterion.id", ondelete="CASCADE"), unique=True)
    marker_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("user.id"))
    bank_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("question_bank.id"))
    # What a candidate without an account types with their ID number (考试码).
    code: so.Mapped[str] = so.mapped_column(sa.String(16), unique=True)
    title: so.Mapped[str] = so.mapped_column(sa.String(200))
    status: so.Mapped[str] = so.mapped_column(sa.String(16), default="draft")
    blueprint: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    seed: so.Mapped[str] = so.mapped_column(sa.String(64))
    opens_at: so.Mapped[datetime]
    closes_at: so.Mapped[datetime]
    duration_minutes: so.Mapped[int]
    # After the window closes the candidate may see her answers and the key, if the organizer allows.
    show_answers: so.Mapped[bool] = so.mapped_column(default=False, server_default=sa.false())
    corrections: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
    created_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    created_by_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))

    competition: so.Mapped[Competition] = so.relationship()
    criterion: so.Mapped[Criterion] = so.relationship()
    marker: so.Mapped[User] = so.relationship(foreign_keys=[marker_id])
    bank: so.Mapped[QuestionBank] = so.relationship()


class Sitting(Model):
    """One candidate's paper and clock (考生答卷): drawn at the start, ended by submission or by time.

    `paper` is [{"v": question-version id, "p": points as text, "o": [stored option index shown at
    each position]}]. The deadline is the start + the duration + any extension, and never later than
    the window's close + the extension. `device` is the one device that may answer; opening the paper
    on another takes over. `points` is the exact score as a fraction's text ("173/3"), `score_cents`
    the criterion mark written from it.
    """

    __tablename__ = "exam_sitting"
    __table_args__ = (
        sa.UniqueConstraint("exam_id", "entrant_id"),
        sa.CheckConstraint("finished_by IS NULL OR " + _in("finished_by", FINISHED_BY), name="finished_by"),
        sa.CheckConstraint("extra_minutes >= 0", name="extra_minutes"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    exam_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exam.id", ondelete="CASCADE"), index=True)
    entrant_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("entrant.id", ondelete="CASCADE"), index=True)
    paper: so.Mapped[list] = so.mapped_column(sa.JSON, default=list)
    started_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    deadline: so.Mapped[datetime]
    extra_minutes: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    device: so.Mapped[str] = so.mapped_column(sa.String(32))
    last_seen_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    focus_losses: so.Mapped[int] = so.mapped_column(default=0, server_default="0")
    finished_at: so.Mapped[datetime | None]
    finished_by: so.Mapped[str | None] = so.mapped_column(sa.String(16))
    points: so.Mapped[str | None] = so.mapped_column(sa.String(40))
    score_cents: so.Mapped[int | None]
    graded_at: so.Mapped[datetime | None]

    exam: so.Mapped[Exam] = so.relationship()
    entrant: so.Mapped[Entrant] = so.relationship()


class Answer(Model):
    """A candidate's answer at one position of her paper, versioned like a mark: a stale device is refused.

    `response` is in stored letters ("AC"), "T"/"F", a decimal, or "" when cleared.
    """

    __tablename__ = "exam_answer"
    __table_args__ = (
        sa.UniqueConstraint("sitting_id", "position"),
        sa.CheckConstraint("version >= 1", name="version"),
    )

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sitting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exam_sitting.id", ondelete="CASCADE"))
    position: so.Mapped[int]
    response: so.Mapped[str] = so.mapped_column(sa.String(64), default="")
    version: so.Mapped[int] = so.mapped_column(default=1)
    saved_at: so.Mapped[datetime] = so.mapped_column(default=utcnow)


class SittingEvent(Model):
    """What the proctor sees of a sitting: starts, take-overs, focus losses, extensions (with reason)."""

    __tablename__ = "exam_sitting_event"
    __table_args__ = (sa.CheckConstraint(_in("kind", SITTING_EVENTS), name="kind"),)

    id: so.Mapped[int] = so.mapped_column(primary_key=True)
    sitting_id: so.Mapped[int] = so.mapped_column(sa.ForeignKey("exam_sitting.id", ondelete="CASCADE"), index=True)
    kind: so.Mapped[str] = so.mapped_column(sa.String(16))
    at: so.Mapped[datetime] = so.mapped_column(default=utcnow)
    actor_id: so.Mapped[int | None] = so.mapped_column(sa.ForeignKey("user.id"))
    detail: so.Mapped[dict] = so.mapped_column(sa.JSON, default=dict)
