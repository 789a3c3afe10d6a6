"""A craftsman profile (工匠档案): what a worker's record shows, and the organizer's edits to it.

The page reads a fixed number of queries whatever the worker's history: published results
come from `Standing` (never recomputed), stage names and valid certificates in one query
each, and who may follow a link is decided against the org tree read once.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from comp import orgtree
from comp.converters import whole_number
from comp.extensions import db
from comp.models import (
    SKILL_GRADES,
    Certificate,
    Competition,
    Entrant,
    Honour,
    Stage,
    Standing,
    Unit,
    UnitMember,
    User,
    Worker,
)
from comp.models.competition import PUBLIC_STATES
from comp.permissions import can, scope
from comp.services import ServiceError, people, transaction
from comp.services.certs import local_date
from comp.services.common import audit
from comp.services.units import KIND_LABELS as UNIT_KINDS

# Suggestions only: any title may be typed.
HONOUR_TITLES = (
    "劳动模范",
    "五一劳动奖章",
    "泉州工匠",
    "技术能手",
    "工人先锋号",
    "福建工匠",
    "全国技术能手",
    "三八红旗手",
    "青年岗位能手",
    "大国工匠",
)
HONOUR_STATUSES = {"awarded": _l("Awarded"), "recommended": _l("Recommended")}
GENDERS = {"M": _l("Male"), "F": _l("Female")}
FIRST_YEAR = 1950
CURRENT_STATES = ("open", "closed", "running", "locked")
CURRENT_ENTRANT_STATES = ("pending", "approved", "ok")
MAX_MENTOR_CHAIN = 200
SEARCH_LIMIT = 20


class FieldError(ServiceError):
    """A refusal caused by one input field; `field` names the form field it belongs to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Result:
    """One published result of the worker: the competition, its stage scores and any certificate."""

    competition: Competition
    year: int
    rank: int | None
    award: str | None
    total: Decimal | None
    stages: list[tuple[str, str | None]]
    certificate: str | None
    certificate_link: str | None  # "own" (the worker's download), "manage" (the organizer's) or None


def get(worker_id: int) -> Worker | None:
    """Return the worker with this profile number, if any."""
    return db.session.get(Worker, worker_id)


def last_year() -> int:
    """Return the latest year an honour may carry: next year (honours announced ahead)."""
    return local_date().year + 1


def _age(worker: Worker) -> int | None:
    """Return the age in whole years; the birth date comes from the encrypted ID number."""
    born, today = people.birth_date(worker), local_date()
    if born is None:
        return None
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _results(worker: Worker, viewer: User) -> list[Result]:
    """Return the worker's published results, newest year first, with stage names and certificates."""
    rows = db.session.execute(
        sa.select(Standing, Competition)
        .join(Competition, Standing.competition_id == Competition.id)
        .where(Standing.worker_id == worker.id, Competition.status.in_(PUBLIC_STATES))
        .order_by(Standing.year.desc(), Competition.published_at.desc().nulls_last(), Competition.id.desc())
    ).all()
    if not rows:
        return []
    stage_names: dict[int, list[tuple[str, str]]] = {}
    for stage in db.session.execute(
        sa.select(Stage.competition_id, Stage.key, Stage.name)
        .where(Stage.competition_id.in_({c.id for _s, c in rows}))
        .order_by(Stage.position, Stage.id)
    ):
        stage_names.setdefault(stage.competition_id, []).append((stage.key, stage.name))
    certificates = dict(
        db.session.execute(
            sa.select(Certificate.entrant_id, Certificate.number)
            .where(Certificate.entrant_id.in_({s.entrant_id for s, _c in rows}), Certificate.status == "valid")
            .order_by(Certificate.id)
        ).all()
    )
    own = viewer.role == "worker" and viewer.worker_id == worker.id
    found = []
    for standing, competition in rows:
        number = certificates.get(standing.entrant_id)
        manages = can("competition.manage", competition, viewer)
        link = ("own" if own else "manage" if manages else None) if number else None
        scores = standing.stages or {}
        found.append(
            Result(
                competition,
                standing.year,
                standing.rank,
                standing.award,
                standing.total,
                [(name, scores.get(key)) for key, name in stage_names.get(competition.id, [])],
                number,
                link,
            )
        )
    return found


def _honours(worker: Worker) -> list[tuple[Honour, Competition | None]]:
    return list(
        db.session.execute(
            sa.select(Honour, Competition)
            .outerjoin(Competition, Honour.competition_id == Competition.id)
            .where(Honour.worker_id == worker.id)
            .order_by(Honour.year.desc(), Honour.title, Honour.id)
        ).all()
    )


def profile(worker: Worker, viewer: User) -> dict:
    """Return everything the worker's profile shows to this viewer (who may already see it)."""
    tree = orgtree.current()
    staff = viewer.role in ("admin", "organizer")
    apprentices = list(
        db.session.scalars(sa.select(Worker).where(Worker.mentor_id == worker.id).order_by(Worker.name, Worker.id))
    )
    mentor = worker.mentor
    return {
        "worker": worker,
        "employer": worker.employer,
        "county": tree.county_of(worker.employer_id),
        "age": _age(worker),
        "gender": GENDERS.get(worker.gender or ""),
        "grade": SKILL_GRADES.get(worker.skill_grade or 0),
        # The owner sees her number; organizers see it masked (the audited exports carry it whole).
        "phone": (worker.phone or "—")
        if viewer.worker_id == worker.id
        else (people.masked_phone(worker.phone) or "—" if staff else None),
        "honours": _honours(worker),
        "mentor": mentor,
        "mentor_visible": mentor is not None and can("worker.profile", mentor, viewer),
        "apprentices": [(a, can("worker.profile", a, viewer)) for a in apprentices],
        "results": _results(worker, viewer),
        "current": current_entries(worker),
        "memberships": list(
            db.session.execute(
                sa.select(UnitMember.role, Unit)
                .join(Unit, UnitMember.unit_id == Unit.id)
                .where(UnitMember.worker_id == worker.id)
                .order_by(Unit.kind, Unit.name, Unit.id)
            ).all()
        ),
        "unit_kinds": UNIT_KINDS,
        "led": list(
            db.session.scalars(
                sa.select(Unit).where(Unit.leader_id == worker.id).order_by(Unit.kind, Unit.name, Unit.id)
            )
        ),
    }


def current_entries(worker: Worker) -> list[tuple[Entrant, Competition]]:
    """Return the worker's registrations in competitions whose results are not out yet."""
    return list(
        db.session.execute(
            sa.select(Entrant, Competition)
            .join(Competition, Entrant.competition_id == Competition.id)
            .where(
                Entrant.worker_id == worker.id,
                Competition.status.in_(CURRENT_STATES),
                Entrant.status.in_(CURRENT_ENTRANT_STATES),
            )
            .order_by(Competition.year.desc(), Competition.id.desc())
        ).all()
    )


# ---- honours ----


def _honour(worker: Worker, honour_id: int) -> Honour:
    honour = db.session.get(Honour, honour_id)
    if honour is None or honour.worker_id != worker.id:
        raise ServiceError(_("This honour is not in %(name)s's record.", name=worker.name))
    return honour


def add_honour(worker: Worker, title: str, year: int | None, issuer: str | None, status: str, actor: User) -> Honour:
    """Add an honour (awarded, or recommended for it) to the worker's record."""
    title, issuer = (title or "").strip(), (issuer or "").strip() or None
    if not title:
        raise FieldError("title", _("Enter the honour's title."))
    if len(title) > 64:
        raise FieldError("title", _("The title is longer than %(max)d characters.", max=64))
    if year is None or not FIRST_YEAR <= year <= last_year():
        raise FieldError(
            "year", _("The year must be between %(first)d and %(last)d.", first=FIRST_YEAR, last=last_year())
        )
    if issuer and len(issuer) > 120:
        raise FieldError("issuer", _("The issuer is longer than %(max)d characters.", max=120))
    if status not in HONOUR_STATUSES:
        raise FieldError("status", _("Choose whether the honour is awarded or recommended."))
    if (
        db.session.scalar(
            sa.select(Honour.id).where(Honour.worker_id == worker.id, Honour.title == title, Honour.year == year)
        )
        is not None
    ):
        raise FieldError(
            "title", _("%(name)s already holds “%(title)s” for %(year)d.", name=worker.name, title=title, year=year)
        )
    with transaction():
        honour = Honour(worker_id=worker.id, title=title, year=year, issuer=issuer, status=status)
        db.session.add(honour)
        db.session.flush()
        audit.record(
            "worker.honour_added",
            actor,
            None,
            worker,
            honour_id=honour.id,
            title=title,
            year=year,
            issuer=issuer,
            status=status,
        )
    return honour


def remove_honour(worker: Worker, honour_id: int, actor: User) -> None:
    """Delete one honour from the worker's record."""
    honour = _honour(worker, honour_id)
    with transaction():
        db.session.delete(honour)
        audit.record(
            "worker.honour_removed",
            actor,
            None,
            worker,
            honour_id=honour_id,
            title=honour.title,
            year=honour.year,
            status=honour.status,
        )


def confirm_honour(worker: Worker, honour_id: int, actor: User) -> Honour:
    """Turn an honour the worker was recommended for into one awarded."""
    honour = _honour(worker, honour_id)
    if honour.status != "recommended":
        raise ServiceError(_("“%(title)s” (%(year)d) is already awarded.", title=honour.title, year=honour.year))
    with transaction():
        honour.status = "awarded"
        audit.record(
            "worker.honour_confirmed", actor, None, worker, honour_id=honour.id, title=honour.title, year=honour.year
        )
    return honour


# ---- mentor (名师带徒) ----


def find_mentors(text: str, viewer: User) -> list[Worker]:
    """Return the workers a typed mentor means: by profile number, else by name among those the viewer oversees."""
    text = (text or "").strip().removeprefix("#")
    if not text:
        raise FieldError("mentor", _("Enter the mentor's name or profile number."))
    units = scope(viewer)
    if text.isdigit():
        number = whole_number(text)
        numbered = db.session.get(Worker, number) if number is not None else None
        # Outside the organizer's unions a number answers as unknown: names are not looked up by guessing.
        if numbered is None or (units is not None and numbered.employer_id not in units):
            raise FieldError("mentor", _("No worker has the profile number %(number)s.", number=text))
        return [numbered]
    query = sa.select(Worker).options(so.joinedload(Worker.employer)).order_by(Worker.name, Worker.id)
    if units is not None:
        query = query.where(Worker.employer_id.in_(units))
    # The whole name first (indexed); only then the slower search inside names.
    found = list(db.session.scalars(query.where(Worker.name == text).limit(SEARCH_LIMIT)).unique()) or list(
        db.session.scalars(query.where(Worker.name.contains(text, autoescape=True)).limit(SEARCH_LIMIT)).unique()
    )
    if not found:
        raise FieldError("mentor", _("No worker named “%(name)s” works in the unions you oversee.", name=text))
    return found


def _mentors_of(worker_id: int) -> set[int]:
    """Return the ids of the worker's mentor, the mentor's mentor, and so on up the chain."""
    chain: set[int] = set()
    current = db.session.scalar(sa.select(Worker.mentor_id).where(Worker.id == worker_id))
    while current is not None and current not in chain and len(chain) < MAX_MENTOR_CHAIN:
        chain.add(current)
        current = db.session.scalar(sa.select(Worker.mentor_id).where(Worker.id == current))
    return chain


def set_mentor(worker: Worker, mentor: Worker | None, actor: User) -> None:
    """Set the worker's mentor, or clear it with None; refuse self-mentoring and cycles."""
    if mentor is None:
        if worker.mentor_id is None:
            raise FieldError("mentor", _("%(name)s has no mentor to clear.", name=worker.name))
    elif mentor.id == worker.id:
        raise FieldError("mentor", _("A worker cannot be their own mentor."))
    elif mentor.id == worker.mentor_id:
        raise FieldError("mentor", _("%(mentor)s is already %(name)s's mentor.", mentor=mentor.name, name=worker.name))
    elif worker.id in _mentors_of(mentor.id):
        raise FieldError(
            "mentor",
            _(
                "%(mentor)s is %(name)s's apprentice (directly or through others): "
                "a mentor cannot be their own apprentice's apprentice.",
                mentor=mentor.name,
                name=worker.name,
            ),
        )
    previous = worker.mentor_id
    with transaction():
        worker.mentor_id = mentor.id if mentor else None
        audit.record(
            "worker.mentor_set" if mentor else "worker.mentor_cleared",
            actor,
            None,
            worker,
            old=previous,
            new=worker.mentor_id,
        )


# ---- skill grade ----


def set_grade(worker: Worker, grade: int | None, reason: str, actor: User) -> None:
    """Change the worker's skill grade, with the reason kept in the audit trail (old → new)."""
    reason = (reason or "").strip()
    if grade not in SKILL_GRADES:
        raise FieldError("grade", _("Choose one of the five skill grades."))
    if grade == worker.skill_grade:
        raise FieldError(
            "grade", _("%(name)s already holds the grade %(grade)s.", name=worker.name, grade=SKILL_GRADES[grade])
        )
    if not reason:
        raise FieldError("reason", _("Say why the skill grade changes."))
    if len(reason) > 200:
        raise FieldError("reason", _("The reason is longer than %(max)d characters.", max=200))
    previous = worker.skill_grade
    with transaction():
        worker.skill_grade = grade
        audit.record("worker.grade_changed", actor, None, worker, old=previous, new=grade, reason=reason)
