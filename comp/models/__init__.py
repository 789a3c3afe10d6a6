"""Typed models, one module per aggregate; import them from here."""

from comp.models.accounts import AccountLink, UserSession, WorkerRequest  # noqa: F401
from comp.models.audit import AppendOnlyError, AuditEvent, Upload  # noqa: F401
from comp.models.certificate import Certificate, CertificateBatch, CertificateSeal, Verification  # noqa: F401
from comp.models.competition import Competition, Criterion, Entrant, NotTaken, ProgrammeItem, Stage  # noqa: F401
from comp.models.exam import (  # noqa: F401
    Answer,
    Exam,
    Question,
    QuestionBank,
    QuestionImage,
    QuestionVersion,
    Sitting,
    SittingEvent,
)
from comp.models.jobs import ExportJob  # noqa: F401
from comp.models.judging import (  # noqa: F401
    DiscrepancyReview,
    JudgeAssignment,
    JudgeConflict,
    JudgeCriterion,
    Mark,
    MarkChange,
    Objection,
    RecheckItem,
    RecheckSample,
    RemarkRequest,
    SheetSignoff,
)
from comp.models.people import ROLES, SKILL_GRADES, Honour, OrgUnit, User, Worker  # noqa: F401
from comp.models.rating import Achievement, Unit, UnitMember  # noqa: F401
from comp.models.records import Computed, OutcomeGrant, Standing  # noqa: F401
