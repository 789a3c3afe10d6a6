"""The exchange format (jiangxin.competition/1): import a whole file or nothing, and export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import codes, scoring
from comp.extensions import db
from comp.models import (
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    JudgeCriterion,
    Mark,
    NotTaken,
    OrgUnit,
    ProgrammeItem,
    RecheckItem,
    RecheckSample,
    Stage,
    Unit,
    User,
    Worker,
)
from comp.models.competition import KINDS
from comp.models.types import utcnow
from comp.services import accounts, people, results, transaction
from comp.services.common import audit, wording
from comp.services.exchange.check import (
    FORMAT,
    Problems,
    as_json,
    check_competition,
    check_entrants,
    check_judges,
    check_marks,
    check_not_taken,
    check_programmes,
    check_recheck,
    check_stages,
)


class ExchangeError(ValueError):
    """The document is not a valid competition; `problems` lists every (path, message)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Checked:
    """A validated document, ready to write."""

    data: dict
    scheme: scoring.Scheme
    entrants: dict[str, dict]
    judges: dict[str, dict]
    marks: list[tuple[str, str, str, Decimal]]
    programmes: dict[str, dict[str, tuple]]
    not_taken: dict[str, dict[str, str]]
    recheck: dict | None = None


def read_file(path: str) -> dict:
    """Read a JSON file with exact decimals, or raise ExchangeError saying why it cannot be read."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle, parse_float=Decimal, parse_constant=_no_constant)
    except _ConstantError as error:
        message = _("%(name)s is not a number the exchange format allows; marks are decimal strings", name=error.name)
        raise ExchangeError([("", message)]) from None
    except OSError as error:
        raise ExchangeError([("", _("cannot read the file: %(reason)s", reason=error.strerror or error))]) from None
    except (UnicodeDecodeError, json.JSONDecodeError, ValueError) as error:
        raise ExchangeError([("", _("not a UTF-8 JSON file: %(reason)s", reason=error))]) from None


class _ConstantError(ValueError):
    """A bare NaN or Infinity, which JSON itself does not allow; `name` is how the file wrote it."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


def _no_constant(name: str):
    raise _ConstantError(name)


def check(data) -> Checked:
    """Validate the whole document; raise ExchangeError listing every problem."""
    problems = Problems()
    if not isinstance(data, dict):
        raise ExchangeError([("", _("the document must be a JSON object"))])
    if data.get("format") != FORMAT:
        problems.add(
            "format", _("must be “%(expected)s”, not %(value)s", expected=FORMAT, value=as_json(data.get("format")))
        )
    comp = check_competition(data, problems)
    before = len(problems)
    scheme = check_stages(data, problems)
    kind = comp.get("kind", "competition") if comp.get("kind", "competition") in KINDS else "competition"
    # Rules are checked even when other parts fail, so one run reports every problem;
    # tie-break names are matched against the stages only when those are sound.
    _check_rules(comp, scheme if len(problems) == before else None, kind, problems)
    entrants = check_entrants(data, kind, problems)
    programmes = check_programmes(data, scheme, problems)
    skipped = check_not_taken(data, scheme, problems)
    judges = check_judges(data, problems)
    marks = check_marks(data, scheme, entrants, judges, problems)
    _check_marked_not_taken(data, marks, skipped, problems)
    recheck = check_recheck(data, scheme, entrants, judges, problems)
    code = comp.get("code")
    if isinstance(code, str) and db.session.scalar(sa.select(Competition.id).where(Competition.code == code)):
        problems.add("competition.code", _("a competition with code “%(code)s” already exists", code=code))
    if isinstance(code, str) and code:
        _check_judge_accounts(code, data, judges, problems)
    if problems:
        raise ExchangeError(list(problems))
    return Checked(data, scheme, entrants, judges, marks, programmes, skipped, recheck)


def _check_marked_not_taken(data: dict, marks: list, skipped: dict[str, dict[str, str]], problems: Problems) -> None:
    """Refuse an attempt recorded as not taken that a judge has marked: one of the two is wrong."""
    marked = {(entrant, key) for entrant, _judge, key, _value in marks}
    where = {e.get("ref"): i for i, e in enumerate(data.get("entrants") or []) if isinstance(e, dict)}
    for ref, items in skipped.items():
        for key in items:
            if (ref, key) in marked:
                problems.add(
                    f"entrants[{where.get(ref)}].not_taken.{key}",
                    _(
                        "%(entrant)s has marks on %(criterion)s, which is recorded as not taken",
                        entrant=ref,
                        criterion=key,
                    ),
                )


def _check_rules(comp: dict, scheme: scoring.Scheme | None, kind: str, problems: Problems) -> None:
    """Add the problems of the competition's rules, with paths under `competition.rules`."""
    if not isinstance(comp.get("rules", {}), dict):
        return  # already reported by check_competition
    try:
        scoring.parse_rules(comp.get("rules") or {}, scheme, kind)
    except scoring.RuleError as error:
        for path, code, params in error.problems:
            where = path if path.startswith("competition") else f"competition.{path}"
            problems.add(where, wording.message(code, params))


def judge_username(code: str, ref: str) -> str:
    """Return the account name an imported judge gets."""
    return f"judge.{code}.{ref}".lower()


def _check_judge_accounts(code: str, data: dict, judges: dict[str, dict], problems: Problems) -> None:
    """Refuse judges whose account name would be too long or is already taken."""
    names = [judge_username(code, ref) for ref in judges]
    # Who holds each account name: None for an account already in the database, else the judge's path.
    taken: dict[str, str | None] = dict.fromkeys(
        db.session.scalars(sa.select(User.username).where(User.username.in_(names)))
    )
    for i, j in enumerate(data.get("judges") or []):
        ref = j.get("ref") if isinstance(j, dict) else None
        if ref not in judges or judges[ref] is not j:
            continue
        name = judge_username(code, ref)
        if len(name) > 64:
            problems.add(
                f"judges[{i}].ref",
                _("the judge's account name “%(name)s” would be longer than %(limit)s characters", name=name, limit=64),
            )
        elif name in taken:
            # Account names are lower-cased, so refs "J1" and "j1" would collide too.
            holder = taken[name]
            problems.add(
                f"judges[{i}].ref",
                _("the judge's account name “%(name)s” is already used by an existing account", name=name)
                if holder is None
                else _("the judge's account name “%(name)s” is already used by %(other)s", name=name, other=holder),
            )
        taken.setdefault(name, f"judges[{i}]")


def import_competition(data, actor=None) -> Competition:
    """Validate then write the whole competition in one transaction; locked when its marks are complete."""
    checked = check(data)
    with transaction():
        competition = _write(checked, actor)
        db.session.flush()
        _, outcome = results.compute(competition)
        # A re-check still under way (marks to give, differences to rule on) holds the lock, as on the console.
        open_recheck = any(
            item.get("state") in ("waiting", "differs", "third") for item in (checked.recheck or {}).get("items", [])
        )
        competition.status = "locked" if outcome.complete and checked.marks and not open_recheck else "running"
        audit.record(
            "competition.imported",
            actor,
            competition,
            competition,
            entrants=len(checked.entrants),
            marks=len(checked.marks),
            status=competition.status,
        )
    return competition


def _org(name: str, cache: dict, kind: str = "enterprise") -> int | None:
    """Return the id of the organization with this name, creating an enterprise when unknown."""
    if not name:
        return None
    if name not in cache:
        found = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.name == name).order_by(OrgUnit.id).limit(1))
        if found is None:
            unit = OrgUnit(kind=kind, name=name)
            db.session.add(unit)
            db.session.flush()
            found = unit.id
        cache[name] = found
    return cache[name]


def _write(checked: Checked, actor) -> Competition:
    comp = checked.data["competition"]
    orgs: dict[str, int | None] = {}
    competition = Competition(
        code=comp["code"],
        name=comp["name"],
        kind=comp.get("kind", "competition"),
        trade=comp.get("trade"),
        level=comp.get("level", "city"),
        year=comp["year"],
        organizer=comp.get("organizer") or "",
        organizer_unit_id=db.session.scalar(
            sa.select(OrgUnit.id).where(OrgUnit.name == comp.get("organizer"), OrgUnit.kind.in_(("city", "county")))
        ),
        rules=_jsonable(comp.get("rules") or {}),
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(competition)
    criterion_ids = _write_scheme(competition, checked.data["stages"])
    entrant_ids = _write_entrants(competition, checked, orgs)
    judge_ids = _write_judges(competition, checked, orgs, criterion_ids)
    programme = [
        {"entrant_id": entrant_ids[ref], "criterion_id": criterion_ids[key], "factor": factor, "label": label}
        for ref, items in checked.programmes.items()
        for key, (factor, label) in items.items()
    ]
    if programme:
        db.session.execute(sa.insert(ProgrammeItem), programme)
    skipped = [
        {
            "competition_id": competition.id,
            "entrant_id": entrant_ids[ref],
            "criterion_id": criterion_ids[key],
            "reason": reason,
            "recorded_by_id": getattr(actor, "id", None),
            "recorded_at": utcnow(),
        }
        for ref, items in checked.not_taken.items()
        for key, reason in items.items()
    ]
    if skipped:
        db.session.execute(sa.insert(NotTaken), skipped)
    if checked.recheck is not None:
        _write_recheck(competition, checked.recheck, entrant_ids, judge_ids, criterion_ids)
    now = utcnow()
    rows = [
        {
            "competition_id": competition.id,
            "entrant_id": entrant_ids[e],
            "judge_id": judge_ids[j],
            "criterion_id": criterion_ids[k],
            "value_cents": int(v * 100),
            "version": 1,
            "updated_at": now,
        }
        for e, j, k, v in checked.marks
    ]
    if rows:  # the Core table insert: one executemany, no ORM bookkeeping per mark
        db.session.execute(cast(sa.Table, Mark.__table__).insert(), rows)  # a mapped class's table is a Table
    return competition


def _write_recheck(competition: Competition, recheck: dict, entrants: dict, judges: dict, criteria: dict) -> None:
    """Write a re-check sample carried over from an export: its seed, marks and rulings as they were."""

    def cents(value) -> int | None:
        return None if value is None else int(Decimal(str(value)) * 100)

    sample = RecheckSample(
        competition_id=competition.id,
        seed=recheck["seed"],
        share=Decimal(str(recheck["share"])),
        tolerance=Decimal(str(recheck["tolerance"])),
        zone=list(recheck["zone"]),
        pool=list(recheck["pool"]),
        marker_id=judges[recheck["marker"]],
        drawn_at=utcnow(),
    )
    sample.items = [
        RecheckItem(
            entrant_id=entrants[item["entrant"]],
            criterion_id=criteria[item["criterion"]],
            state=item["state"],
            second_cents=cents(item.get("second")),
            third_cents=cents(item.get("third")),
            third_marker_id=judges.get(item.get("third_marker") or ""),
            note=item.get("note"),
        )
        for item in recheck["items"]
    ]
    db.session.add(sample)


def _jsonable(value):
    """Keep rules as given, with exact decimals turned back into strings."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return str(value) if isinstance(value, Decimal) else value


def _write_scheme(competition: Competition, stages: list[dict]) -> dict[str, int]:
    for position, s in enumerate(stages):
        stage = Stage(
            key=s["key"], name=s["name"], weight=Decimal(str(s["weight"])), best=s.get("best"), position=position
        )
        stage.criteria = [
            Criterion(
                key=c["key"],
                name=c["name"],
                max_value=Decimal(str(c["max"])),
                kind=c.get("kind", "score"),
                aggregation=c.get("aggregation", "mean"),
                step=Decimal(str(c["step"])) if c.get("step") is not None else None,
                trim=c.get("trim", 1),
                low_value=Decimal(str(c.get("low", 0))),
                worth=Decimal(str(c["worth"])) if c.get("worth") is not None else None,
                places=c.get("places"),
                factored=c.get("factored", False),
                position=p,
            )
            for p, c in enumerate(s["criteria"])
        ]
        competition.stages.append(stage)
    db.session.flush()
    return {f"{s.key}.{c.key}": c.id for s in competition.stages for c in s.criteria}


def _write_entrants(competition: Competition, checked: Checked, orgs: dict) -> dict[str, int]:
    kind = competition.kind
    rows = []
    secret = iter(codes.secret_codes(len(checked.entrants)))
    for ref, e in checked.entrants.items():
        employer_id = _org(e.get("employer") or "", orgs)
        row = {
            "competition_id": competition.id,
            "ref": ref,
            "name": e["name"].strip(),
            "employer_id": employer_id,
            "team": e.get("team") or "",
            "status": e.get("status", "ok"),
            "time_seconds": e.get("time_seconds"),
            "type": e.get("type", "person"),
            "secret_code": next(secret),
            "worker_id": None,
            "unit_id": None,
        }
        if kind == "rating":
            row["unit_id"] = _unit(row["type"], row["name"], employer_id)
        rows.append(row)
    if kind != "rating":
        for row, worker_id in zip(rows, _workers(list(checked.entrants.values()), rows)):
            row["worker_id"] = worker_id
    if not rows:  # a competition set up before its registrations: nothing to insert
        return {}
    ids = db.session.scalars(sa.insert(Entrant).returning(Entrant.id, sort_by_parameter_order=True), rows).all()
    return {row["ref"]: id_ for row, id_ in zip(rows, ids)}


def _workers(entrants: list[dict], rows: list[dict]) -> list[int]:
    """Find each entrant's worker by ID number, creating the missing ones in one insert."""
    protected = [people.protected_fields(e.get("id_number")) for e in entrants]
    hashes = [p["id_hash"] for p in protected if p["id_hash"]]
    known: dict[str | None, int] = {}
    for start in range(0, len(hashes), 500):  # bounded IN lists for every database
        known.update(
            db.session.execute(
                sa.select(Worker.id_hash, Worker.id).where(Worker.id_hash.in_(hashes[start : start + 500]))
            ).all()
        )
    new = [
        {"name": row["name"], "employer_id": row["employer_id"], "created_at": utcnow(), **fields}
        for row, fields in zip(rows, protected)
        if fields["id_hash"] not in known
    ]
    created = iter(
        db.session.scalars(sa.insert(Worker).returning(Worker.id, sort_by_parameter_order=True), new).all()
        if new
        else ()
    )
    return [known[fields["id_hash"]] if fields["id_hash"] in known else next(created) for fields in protected]


def _unit(kind: str, name: str, enterprise_id: int | None) -> int:
    """Find the studio or team by name and enterprise, or create it."""
    unit = db.session.scalar(
        sa.select(Unit).where(Unit.kind == kind, Unit.name == name, Unit.enterprise_id == enterprise_id)
    )
    if unit is None:
        unit = Unit(kind=kind, name=name, enterprise_id=enterprise_id)
        db.session.add(unit)
        db.session.flush()
    return unit.id


def _write_judges(competition, checked: Checked, orgs: dict, criterion_ids: dict) -> dict[str, int]:
    marked: dict[str, set[str]] = {}
    for _entrant, judge, key, _value in checked.marks:
        marked.setdefault(judge, set()).add(key)
    ids = {}
    for ref, j in checked.judges.items():
        user = accounts.new_user(
            judge_username(competition.code, ref),
            "judge",
            display_name=j["name"],
            org_unit_id=_org(j.get("employer") or "", orgs),
        )
        db.session.flush()
        assignment = JudgeAssignment(competition=competition, user_id=user.id, ref=ref, is_chief=bool(j.get("chief")))
        assignment.criteria = [JudgeCriterion(criterion_id=criterion_ids[k]) for k in sorted(marked.get(ref, ()))]
        db.session.add(assignment)
        ids[ref] = user.id
    db.session.flush()
    return ids


def export_competition(competition: Competition) -> dict:
    """Return the competition in the exchange format; importing it gives the same data."""
    from comp.services.exchange.out import export

    return export(competition)
