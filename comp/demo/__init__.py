"""The Quanzhou demo: unions, enterprises, workers, studios, teams, accounts and competitions.

`load()` is idempotent: everything is looked up by its natural key before it is created,
and a competition whose code exists is left alone.
"""

from __future__ import annotations

import random
from datetime import datetime

import sqlalchemy as sa

from comp.demo import contests, data, exams, roster, seed
from comp.extensions import db
from comp.models import Competition, JudgeAssignment, Mark, User
from comp.services import accounts, exchange, results, transaction
from comp.services import certs as certificates
from comp.services.setup import honours, lifecycle

# code → (registration opens, closes, capacity, status to set after the import, workstation prefix)
SCHEDULE = {
    data.UAV: ("2026-04-01", "2026-04-30", 60, None, "机位"),
    data.TEA: ("2026-09-15", "2026-10-20", 80, None, "审评台"),
    data.NOODLE: ("2026-11-15", "2026-12-20", 200, "open", None),
    data.SHOE: ("2026-10-20", "2026-11-25", 100, "closed", None),
    data.CERAMIC: ("2026-10-08", "2026-11-10", 30, None, "拉坯台"),
    data.TEA_PRE: ("2026-10-15", "2026-11-15", 100, "running", None),
}
SEES = {
    "admin": "every competition and rating; every account",
    "organizer": "all seven: UAV published (its honours to confirm), TEA running, NOODLE open, SHOE closed,"
    " rating locked, last year's UAV archived, CERAMIC running (best of three pieces × declared difficulty,"
    " totals in points; its programme page); the city dashboard and the talent pool;"
    " accounts, an invited judge, a worker's claim and a correction to decide",
    "jinjiang": "Jinjiang's county competition JJ-2026-SHOE (registration closed; awards by fixed places 1/3/6);"
    " Jinjiang's accounts",
    "liaison": "enterprise liaison of the Hutou rice-noodle company: uploads its employees for QZ-2026-NOODLE",
    "judge1": "chief judge of QZ-2026-TEA (running, part-marked, one discrepancy to resolve)",
    "judge2": "chief judge of QZ-2026-UAV and PJ-2026-TEAM",
    "judge3": "judge on QZ-2026-UAV and PJ-2026-TEAM; chief judge of QZ-2026-CERAMIC (record a third piece"
    " not taken, DNI)",
    "judge4": "judge on QZ-2026-TEA and PJ-2026-TEAM",
    "wangyf": "signed up herself; her claim of her record waits for the organizer",
    "worker": "own entry in QZ-2026-UAV, with an award in the published results and its certificate;"
    " her craftsman profile",
}


def database_is_empty() -> bool:
    """Tell whether the database has no user accounts yet."""
    return not db.session.scalar(sa.select(sa.func.count()).select_from(User))


def load() -> list[str]:
    """Load the demo, creating only what is missing; return the lines to print."""
    specs = roster.workers()
    tally = seed.Tally()
    with transaction():
        units = seed.orgs(tally)
        workers = seed.workers(specs, units, tally)
        seed.users(units, workers, tally)
        seed.onboarding(units, workers, tally)
        seed.studios(units, workers, specs, tally)
        seed.teams(units, workers, specs, tally)
    lines = [f"created {n} {kind}" for kind, n in tally.items()]
    for doc in contests.documents(specs):
        code = doc["competition"]["code"]
        if results.get_competition(code) is None:
            competition = _import(doc)
            lines.append(f"imported {code} {competition.name}: {competition.status}")
            if code == data.TEA_PRE:
                lines.append(_exam_line(exams.load(competition), specs))
    return (lines or ["demo data already loaded; nothing changed"]) + account_lines()


def _import(doc: dict) -> Competition:
    """Import a competition, seat the demo judges on its panel, and move it to its demo state."""
    organizer = doc["competition"]["organizer"]
    actor = accounts.find_user("jinjiang" if organizer == "晋江市总工会" else "organizer")
    competition = exchange.import_competition(doc, actor=actor)
    with transaction():
        _seat_demo_judges(competition)
        _schedule(competition)
        if competition.code == contests.RATING:
            competition.unit_kind = "team"  # the exchange format does not say what a rating rates
    if competition.code in (data.UAV, data.UAV_2025):
        with transaction():
            competition.outcomes = data.UAV_OUTCOMES
        lifecycle.publish(competition, actor=actor)
        # The demo shows certificates at once; `now` skips the notice period and says so in the audit.
        certificates.issue(competition, actor=actor, now=True)
    if competition.code == data.UAV_2025:
        # Last year's honours went through: confirmed, in the profiles, the final archived.
        honours.confirm(competition, [e.id for e in competition.entrants], actor=actor)
        lifecycle.transition(competition, "archived", actor)
    return competition


def _exam_line(exam, specs: list[roster.WorkerSpec]) -> str:
    """Say how a newcomer sits the open exam: its code and the ID number of a candidate who has not sat it."""
    waiting = contests.anxi_tasters(specs)[exams.SAT]
    return f"theory exam {exam.code} is open: sit it at /exam as {waiting.name}, ID number {waiting.id_number}"


def _seat_demo_judges(competition: Competition) -> None:
    """Give demo judges' seats to their accounts, so the seats show on their home pages."""
    panel = contests.PANELS.get(competition.code, {})
    for assignment in db.session.scalars(
        sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id)
    ):
        key = panel.get(assignment.ref, (None,))[0]
        old = assignment.user_id
        if key in data.ACCOUNTS:
            new = accounts.find_user(key)
            assert new is not None  # load() has created every account of data.ACCOUNTS (seed.users) before this
        elif key in data.GUEST_JUDGES:
            # A guest judge on two years' panels is one person with one account, not one per import.
            new = db.session.scalar(
                sa.select(User)
                .where(User.role == "judge", User.display_name == data.GUEST_JUDGES[key][0], User.id != old)
                .order_by(User.id)
                .limit(1)
            )
            if new is None:
                continue
        else:
            continue
        db.session.execute(
            sa.update(Mark).values(judge_id=new.id).where(Mark.competition_id == competition.id, Mark.judge_id == old)
        )
        assignment.user_id = new.id
        db.session.flush()
        _drop_if_unused(old)


def _drop_if_unused(user_id: int) -> None:
    """Delete an account the import made when no row refers to it any more."""
    for table in db.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name != User.__tablename__:
                continue
            query = sa.select(sa.literal(1)).select_from(table).where(fk.parent == user_id).limit(1)
            if db.session.execute(query).first():
                return
    db.session.execute(sa.delete(User).where(User.id == user_id))


def _schedule(competition: Competition) -> None:
    """Set the registration window, capacity and demo status; draw contestant numbers by lot."""
    if competition.code not in SCHEDULE:
        return
    opens, closes, capacity, status, station = SCHEDULE[competition.code]
    # Timestamps are stored in UTC: 08:00 and 18:00 Beijing time are 00:00 and 10:00 UTC.
    competition.registration_opens = datetime.fromisoformat(opens + "T00:00")
    competition.registration_closes = datetime.fromisoformat(closes + "T10:00")
    competition.capacity = capacity
    if status:
        competition.status = status
    if station:
        entrants = sorted(competition.entrants, key=lambda e: e.ref)
        lot = random.Random(f"{data.SEED}{competition.code}")
        numbers = lot.sample(range(1, len(entrants) + 1), len(entrants))
        for entrant, number in zip(entrants, numbers):
            entrant.number, entrant.workstation = number, f"{station}{number:02d}"


def account_lines() -> list[str]:
    """Describe the demo accounts for the console."""
    rows = [(name, role, display) for name, (role, display, _) in data.ACCOUNTS.items()]
    worker = db.session.scalar(sa.select(User).where(User.username == data.WORKER_ACCOUNT[0]))
    rows.append((data.WORKER_ACCOUNT[0], "worker", worker.display_name if worker else ""))
    rows.append((data.CLAIM_ACCOUNT[0], "worker", "王雅芬"))
    lines = [f"demo accounts (password {data.PASSWORD}):"]
    lines += [f"  {name:<10} {role:<10} {display}  — {SEES[name]}" for name, role, display in rows]
    return lines


__all__ = ["account_lines", "database_is_empty", "load"]
