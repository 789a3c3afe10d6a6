"""The rows of a registration sheet: its columns, the per-row report, and writing the valid rows."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _p

from comp import idcard
from comp.converters import has_control_characters, whole_number
from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit, User, Worker
from comp.permissions import can
from comp.services import people
from comp.services.common import sheets
from comp.services.registration import (
    FORMULA_PREFIXES,
    Candidate,
    already_message,
    counties_of,
    enter,
    entry_of,
    ineligible,
    next_refs,
    places_left,
)

PHONE = re.compile(r"\+?[0-9][0-9 -]{5,18}")
LENGTHS = {"name": 64, "employer": 120, "trade": 64, "team": 64}


@dataclass(frozen=True)
class Column:
    """A column of the template: its key, its header in the template (both languages, as the importer
    reads it), its name in the user's language (`label`, for pages and messages), the names it is known by."""

    key: str
    header: str
    label: str
    aliases: frozenset[str]
    required: bool = True


COLUMNS = (
    Column("name", "姓名 Name", _p("sheet column", "Name"), frozenset({"姓名", "name"})),
    Column(
        "id_number",
        "身份证号 ID number",
        _p("sheet column", "ID number"),
        frozenset({"身份证号", "身份证号码", "身份证", "id number", "id"}),
    ),
    Column(
        "phone",
        "手机 Phone",
        _p("sheet column", "Phone"),
        frozenset({"手机", "手机号", "手机号码", "电话", "phone", "mobile"}),
    ),
    Column("employer", "单位 Employer", _p("sheet column", "Employer"), frozenset({"单位", "工作单位", "employer"})),
    Column("trade", "工种 Trade", _p("sheet column", "Trade"), frozenset({"工种", "trade"})),
    Column(
        "grade",
        "技能等级 Grade (1-5)",
        _p("sheet column", "Skill grade (1-5)"),
        frozenset({"技能等级", "等级", "grade", "skill grade"}),
    ),
    Column("team", "队名 Team", _p("sheet column", "Team"), frozenset({"队名", "团队", "team"}), required=False),
)
HEADER = {c.key: c.header for c in COLUMNS}


def labels() -> dict[str, str]:
    """Return each column's name in the user's language, by key ("row" for a problem of the whole row)."""
    return {"row": "—", **{c.key: str(c.label) for c in COLUMNS}}


def column_of(header) -> str | None:
    """Return the key a header cell names, accepting "姓名", "Name" and "姓名 Name"."""
    text = re.sub(r"[（(].*?[)）]", "", str(header or "")).replace("*", "").strip().lower()
    text = re.sub(r"\s+", " ", text)
    names = {text, *text.split(" ", 1)}
    return next((c.key for c in COLUMNS if names & c.aliases), None)


def liaison_unit(competition: Competition, user: User) -> OrgUnit | None:
    """Return the enterprise a liaison's rows are limited to; None for the competition's organizers."""
    unit = user.org_unit
    if unit is not None and unit.kind == "enterprise":
        return unit  # an enterprise's union is a liaison even where it could manage (no organizing unit)
    return None if can("competition.manage", competition, user) else unit


def employers(competition: Competition, user: User) -> list[str]:
    """Return the names of the enterprises the user may register people of for this competition, sorted."""
    liaison = liaison_unit(competition, user)
    if liaison is not None:
        return [liaison.name] if liaison.kind == "enterprise" else []
    counties = {c.id for c in counties_of(competition)}
    units = db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "enterprise"))
    return sorted({u.name for u in units if not counties or {a.id for a in u.lineage()} & counties})


class Checker:
    """Check rows one by one, remembering what earlier rows used (ID numbers)."""

    def __init__(self, competition: Competition, user: User):
        self.competition, self.user = competition, user
        self.liaison = liaison_unit(competition, user)
        self.seen: dict[str, int] = {}
        self.enterprises: dict[str, list[OrgUnit]] = {}
        self._employers: list[str] | None = None
        for unit in db.session.scalars(sa.select(OrgUnit).where(OrgUnit.kind == "enterprise")):
            self.enterprises.setdefault(unit.name, []).append(unit)
        # People on record and their entries in this competition, by ID number, read for a whole sheet at
        # once (prefetch): a sheet of 5,000 rows must not cost 10,000 round trips to the database.
        self.known: dict[str, Worker] | None = None
        self.entries: dict[str, Entrant] = {}

    def prefetch(self, rows: list[dict]) -> None:
        """Read, in a few statements, the records and entries of every ID number the rows carry."""
        protector, hashes = idcard.protector(), {}
        for row in rows:
            try:
                number = idcard.normalize(protector.decrypt(row["id"].encode())) if row["id"] else None
            except idcard.IdNumberError:
                continue
            if number:
                hashes[protector.lookup_hash(number)] = number
        self.known, digests = {}, list(hashes)
        for start in range(0, len(digests), 500):
            chunk = digests[start : start + 500]
            query = sa.select(Worker).options(so.selectinload(Worker.user)).where(Worker.id_hash.in_(chunk))
            for worker in db.session.scalars(query):
                self.known[hashes[worker.id_hash or ""]] = worker
        entries = (
            sa.select(Worker.id_hash, Entrant)
            .join(Worker, Entrant.worker_id == Worker.id)
            .where(Entrant.competition_id == self.competition.id, Worker.id_hash.is_not(None))
        )
        self.entries = {hashes[h]: e for h, e in db.session.execute(entries) if h in hashes}

    def worker(self, number: str) -> Worker | None:
        """Return the person on record with this ID number (from the prefetch when there was one)."""
        return self.known.get(number) if self.known is not None else people.find_by_id_number(number)

    def entry(self, number: str, worker: Worker) -> Entrant | None:
        """Return the person's entry in this competition (from the prefetch when there was one)."""
        return self.entries.get(number) if self.known is not None else entry_of(self.competition, worker)

    def employers(self) -> list[str]:
        """Return (once) the enterprises this uploader may name, for "did you mean"."""
        if self._employers is None:
            self._employers = employers(self.competition, self.user)
        return self._employers

    def check(self, row: dict) -> list[tuple[str, str]]:
        """Return (field, problem) for everything wrong with one row."""
        found = [
            (key, _("missing"))
            for key in ("name", "id_number", "phone", "employer", "trade", "grade")
            if not (row["id"] if key == "id_number" else row.get(key))
        ]
        for key in ("name", "employer", "trade", "team"):
            value = row.get(key) or ""
            if value.startswith(FORMULA_PREFIXES):
                found.append((key, _("begins with %(char)s, like a spreadsheet formula", char=value[0])))
            elif has_control_characters(value):
                found.append((key, _("contains control characters")))
            elif len(value) > LENGTHS[key]:
                found.append((key, _("too long (at most %(n)s characters)", n=LENGTHS[key])))
        if row.get("phone") and not PHONE.fullmatch(row["phone"]):
            found.append(("phone", _("not a phone number")))
        grade = self._grade(row, found)
        employer = self._employer(row, found)
        number = self._id_number(row, found)
        # Eligibility speaks only of fields that are otherwise right, so one mistake is reported once.
        flagged = {field for field, _message in found}
        candidate = Candidate(idcard.birth_date(number) if number else None, row.get("trade"), grade, employer)
        found += [(f, m) for f, m in ineligible(self.competition, candidate) if f not in flagged]
        return found

    def _grade(self, row: dict, found: list) -> int | None:
        text = row.get("grade") or ""
        grade = whole_number(text, 1, 5)
        if text and grade is None:
            found.append(
                ("grade", _("must be a whole number from 1 (highest) to 5 (lowest), not “%(value)s”", value=text))
            )
        return grade

    def _employer(self, row: dict, found: list) -> OrgUnit | None:
        name = row.get("employer") or ""
        if not name:
            return None
        units = self.enterprises.get(name, [])
        if not units:
            unknown = _("unknown employer “%(name)s”: no enterprise has this name.", name=name)
            found.append(("employer", unknown + sheets.did_you_mean(name, self.employers())))
            return None
        if len(units) > 1:
            found.append(
                ("employer", _("“%(name)s” names %(n)s enterprises; ask the organizer", name=name, n=len(units)))
            )
            return None
        if self.liaison is not None and units[0].id != self.liaison.id:
            found.append(("employer", _("you may register only employees of %(unit)s", unit=self.liaison.name)))
        return units[0]

    def _id_number(self, row: dict, found: list) -> str | None:
        if not row["id"]:
            return None
        try:
            number = idcard.normalize(idcard.protector().decrypt(row["id"].encode()))
        except idcard.IdNumberError as error:
            found.append(("id_number", _("bad ID number: %(reason)s", reason=error)))
            return None
        first = self.seen.setdefault(number, row["row"])
        if first != row["row"]:
            found.append(("id_number", _("duplicate: the same ID number is in row %(row)s", row=first)))
            return None
        worker = self.worker(number)
        if worker is not None:
            if worker.name != row.get("name"):
                found.append(("name", _("does not match the name on record for this ID number")))
            # A liaison's sheet cannot enter another enterprise's employee by naming its own enterprise.
            if self.liaison is not None and worker.employer_id not in (None, self.liaison.id):
                outside = ("employer", _("you may register only employees of %(unit)s", unit=self.liaison.name))
                if outside not in found:
                    found.append(outside)
            entry = self.entry(number, worker)
            if entry is not None and entry.status != "withdrawn":
                found.append(("id_number", already_message(entry)))
        return number


def check_rows(competition: Competition, user: User, rows: list[dict]) -> list[dict]:
    """Return the report of every problem: row number, field, column header, message."""
    checker, report, valid = Checker(competition, user), [], 0
    checker.prefetch(rows)
    left = places_left(competition)
    names = labels()
    for row in rows:
        problems = sheets.with_formulas(row, checker.check(row))
        if not problems:
            valid += 1
            if left is not None and valid > left:
                problems = [("row", _("over capacity: only %(left)s places are left", left=left))]
        report += [
            {"row": row["row"], "field": field, "column": names[field], "message": message}
            for field, message in problems
        ]
    return report


def _worker(row: dict, number: str, employer: OrgUnit | None, checker: Checker) -> Worker:
    """Find the person by ID number, filling in what an unclaimed record lacks, or create them."""
    worker = checker.worker(number)
    if worker is None:
        worker = Worker(name=row["name"])
        people.set_id_number(worker, number)
        db.session.add(worker)
    if worker.user is not None:
        return worker  # a record its owner holds changes only through the owner's request to the organizer
    worker.phone = worker.phone or row["phone"]
    worker.employer_id = worker.employer_id or (employer.id if employer else None)
    worker.trade = worker.trade or row["trade"]
    worker.skill_grade = worker.skill_grade or int(row["grade"])
    return worker


def write_rows(competition: Competition, user: User, rows: list[dict], status: str) -> None:
    """Write the checked rows: workers found by ID number or created, entrants with `status`."""
    checker = Checker(competition, user)
    checker.prefetch(rows)
    refs = iter(next_refs(competition, len(rows)))
    protector = idcard.protector()
    for row in rows:
        number = idcard.normalize(protector.decrypt(row["id"].encode()))
        employer = checker.enterprises[row["employer"]][0]
        worker = _worker(row, number, employer, checker)
        existing = checker.entry(number, worker) if worker.id is not None else None
        team, ref = row.get("team") or "", next(refs)
        enter(competition, worker, user, status, team=team, employer=employer, ref=ref, existing=existing, flush=False)
    db.session.flush()  # one flush for the sheet: the rows go to the database in batches
