"""Write a competition back out in the exchange format."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from comp.extensions import db
from comp.models import (
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    Mark,
    NotTaken,
    OrgUnit,
    ProgrammeItem,
    RecheckSample,
    Stage,
    User,
)
from comp.models.types import plain
from comp.services import people
from comp.services.exchange.check import FORMAT


def export(competition: Competition) -> dict:
    """Return the competition as an exchange-format document."""
    document = {
        "format": FORMAT,
        "competition": {
            "code": competition.code,
            "name": competition.name,
            "kind": competition.kind,
            "trade": competition.trade,
            "level": competition.level,
            "year": competition.year,
            "organizer": competition.organizer,
            "rules": competition.rules or {},
        },
        "stages": [_stage(s) for s in competition.stages],
        "entrants": _entrants(competition),
        "judges": _judges(competition),
        "marks": _marks(competition),
    }
    recheck = _recheck(competition)
    if recheck is not None:  # beyond SPEC, written only when a re-check sample was drawn
        document["recheck"] = recheck
    return document


def _recheck(competition: Competition) -> dict[str, Any] | None:
    """Return the re-check sample (复核) with its second and third marks and rulings, or None."""
    sample = db.session.scalar(sa.select(RecheckSample).where(RecheckSample.competition_id == competition.id))
    if sample is None:
        return None
    judges = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    refs = dict(
        db.session.execute(sa.select(Entrant.id, Entrant.ref).where(Entrant.competition_id == competition.id)).all()
    )
    keys = {c.id: f"{s.key}.{c.key}" for s in competition.stages for c in s.criteria}
    items = []
    for item in sample.items:
        out: dict[str, Any] = {
            "entrant": refs[item.entrant_id],
            "criterion": keys[item.criterion_id],
            "state": item.state,
        }
        if item.second_cents is not None:
            out["second"] = plain(_cents(item.second_cents))
        if item.third_marker_id is not None:
            out["third_marker"] = judges[item.third_marker_id]
        if item.third_cents is not None:
            out["third"] = plain(_cents(item.third_cents))
        if item.note:
            out["note"] = item.note
        items.append(out)
    return {
        "seed": sample.seed,
        "share": plain(sample.share),
        "tolerance": plain(sample.tolerance),
        "marker": judges[sample.marker_id],
        "zone": list(sample.zone),
        "pool": list(sample.pool),
        "items": items,
    }


def _stage(stage) -> dict:
    return {
        "key": stage.key,
        "name": stage.name,
        "weight": plain(stage.weight),
        **({"best": stage.best} if stage.best else {}),
        "criteria": [_criterion(c) for c in stage.criteria],
    }


def _criterion(c) -> dict:
    out = {"key": c.key, "name": c.name, "max": plain(c.max_value)}
    if c.kind != "score":
        out["kind"] = c.kind
    out["aggregation"] = c.aggregation
    if c.trim != 1:
        out["trim"] = c.trim
    if c.step is not None:
        out["step"] = plain(c.step)
    if c.low_value != 0:
        out["low"] = plain(c.low_value)
    if c.worth is not None:
        out["worth"] = plain(c.worth)
    if c.places is not None:
        out["places"] = c.places
    if c.factored:
        out["factored"] = True
    return out


def _org_names() -> dict[int, str]:
    return dict(db.session.execute(sa.select(OrgUnit.id, OrgUnit.name)).all())


def _entrants(competition: Competition) -> list[dict]:
    orgs = _org_names()
    rows = db.session.scalars(
        sa.select(Entrant)
        .where(Entrant.competition_id == competition.id)
        .options(sa.orm.selectinload(Entrant.worker))
        .order_by(Entrant.id)
    ).all()
    programmes = _programmes(competition)
    skipped = _not_taken(competition)
    out = []
    for e in rows:
        item: dict[str, Any] = {"ref": e.ref, "name": e.name}
        if competition.kind == "rating":
            item["type"] = e.type
        elif e.worker is not None and e.worker.id_cipher:
            item["id_number"] = people.id_number(e.worker)
        employer = orgs.get(e.employer_id, "") if e.employer_id is not None else ""
        item.update({"employer": employer, "team": e.team, "status": e.status})
        if e.time_seconds is not None:
            item["time_seconds"] = e.time_seconds
        if e.id in programmes:
            item["programme"] = programmes[e.id]
        if e.id in skipped:
            item["not_taken"] = skipped[e.id]
        out.append(item)
    return out


def _not_taken(competition: Competition) -> dict[int, dict[str, str]]:
    """Return each entrant's attempts not taken, "stage.criterion" → DNS or DNI, in scheme order."""
    rows = db.session.execute(
        sa.select(NotTaken.entrant_id, Stage.key, Criterion.key, NotTaken.reason)
        .join(Criterion, Criterion.id == NotTaken.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(NotTaken.competition_id == competition.id)
        .order_by(NotTaken.entrant_id, Stage.position, Criterion.position)
    ).all()
    out: dict[int, dict[str, str]] = {}
    for entrant_id, stage, key, reason in rows:
        out.setdefault(entrant_id, {})[f"{stage}.{key}"] = reason
    return out


def _programmes(competition: Competition) -> dict[int, dict[str, dict[str, str]]]:
    """Return each entrant's declared programme, by "stage.criterion" key, in scheme order."""
    rows = db.session.execute(
        sa.select(ProgrammeItem.entrant_id, Stage.key, Criterion.key, ProgrammeItem.factor, ProgrammeItem.label)
        .join(Criterion, Criterion.id == ProgrammeItem.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(Stage.competition_id == competition.id)
        .order_by(ProgrammeItem.entrant_id, Stage.position, Criterion.position)
    ).all()
    out: dict[int, dict[str, dict[str, str]]] = {}
    for entrant_id, stage, key, factor, label in rows:
        item = {"factor": plain(factor)}
        if label:
            item["label"] = label
        out.setdefault(entrant_id, {})[f"{stage}.{key}"] = item
    return out


def _judges(competition: Competition) -> list[dict]:
    orgs = _org_names()
    rows = db.session.execute(
        sa.select(JudgeAssignment.ref, User.display_name, User.org_unit_id, JudgeAssignment.is_chief)
        .join(User, User.id == JudgeAssignment.user_id)
        .where(JudgeAssignment.competition_id == competition.id)
        .order_by(JudgeAssignment.id)
    ).all()
    return [
        {"ref": ref, "name": name, "employer": orgs.get(org, "") if org is not None else "", "chief": chief}
        for ref, name, org, chief in rows
    ]


def _marks(competition: Competition) -> list[dict]:
    keys = {c.id: f"{s.key}.{c.key}" for s in competition.stages for c in s.criteria}
    refs = dict(
        db.session.execute(sa.select(Entrant.id, Entrant.ref).where(Entrant.competition_id == competition.id)).all()
    )
    judges = dict(
        db.session.execute(
            sa.select(JudgeAssignment.user_id, JudgeAssignment.ref).where(
                JudgeAssignment.competition_id == competition.id
            )
        ).all()
    )
    rows = db.session.execute(
        sa.select(Mark.entrant_id, Mark.judge_id, Mark.criterion_id, Mark.value_cents)
        .where(Mark.competition_id == competition.id)
        .order_by(Mark.id)
    ).all()
    return [
        {"entrant": refs[e], "judge": judges[j], "criterion": keys[c], "value": plain(_cents(v))} for e, j, c, v in rows
    ]


def _cents(value: int):
    from decimal import Decimal

    return Decimal(value).scaleb(-2)
