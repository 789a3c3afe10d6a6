"""Studios and teams in and out as .xlsx: template, export, upload with a per-row report, confirmation.

An upload is kept between its preview and its confirmation; nothing is written before the
confirmation, which checks every row again and writes in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _p

from comp.extensions import db
from comp.models import OrgUnit, Unit, Upload, User
from comp.permissions import scope
from comp.services import ServiceError, transaction
from comp.services.common import audit, sheets, uploads
from comp.services.registration.bulk import MAX_BYTES, _text

KIND = "units"
MAX_ROWS = 5000
COLUMNS = (
    ("kind", "类型 Kind"),
    ("name", "名称 Name"),
    ("enterprise", "单位 Enterprise"),
    ("workshop", "车间 Workshop"),
    ("level", "级别 Level"),
    ("founded", "成立日期 Founded"),
)
HEADER = dict(COLUMNS)
LABELS = {
    "kind": _p("sheet column", "Kind"),
    "name": _p("sheet column", "Unit name"),
    "enterprise": _p("sheet column", "Enterprise"),
    "workshop": _p("sheet column", "Workshop"),
    "level": _p("sheet column", "Level"),
    "founded": _p("sheet column", "Founded"),
}
KINDS = {
    "studio": "studio",
    "工作室": "studio",
    "创新工作室": "studio",
    "team": "team",
    "班组": "team",
    "工匠班组": "team",
}
LEVELS = {
    "city": "city",
    "市级": "city",
    "province": "province",
    "省级": "province",
    "national": "national",
    "国家级": "national",
    "全国": "national",
}
SHOWN_KIND = {"studio": "工作室 studio", "team": "班组 team"}
SHOWN_LEVEL = {"city": "市级 city", "province": "省级 province", "national": "国家级 national"}


def lookup(table: dict, text: str) -> str | None:
    """Read a kind or level written in Chinese, English, or both as the export writes it ("市级 city")."""
    words = (text or "").strip().lower()
    return table.get(words) or next((table[w] for w in words.split() if w in table), None)


def labels() -> dict[str, str]:
    """Return each column's name in the user's language, by key."""
    return {key: str(label) for key, label in LABELS.items()}


def enterprises_for(user: User | None) -> list[str]:
    """Return the names of the enterprises of the user's unions, sorted: those a row may name."""
    if user is None:
        return []
    allowed = scope(user)
    names = db.session.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "enterprise"))
    return sorted({name for org_id, name in names if allowed is None or org_id in allowed})


def template(user: User | None = None) -> bytes:
    """Return the units sheet to fill in: the header row, an example row the import skips, and dropdowns
    for the kind, the level and the enterprise (the user's, listed on a second sheet)."""
    enterprises = enterprises_for(user)
    position = {key: number for number, (key, _header) in enumerate(COLUMNS, start=1)}
    enterprise = enterprises[0] if enterprises else ""
    example = ["工作室", "示例 Example：数控技术创新工作室", enterprise, "一车间", "市级", ""]
    return sheets.write_template(
        "工作室与班组 Units",
        [h for _k, h in COLUMNS],
        example,
        [
            sheets.Choice(position["kind"], HEADER["kind"], ["工作室", "班组"], listed=False),
            sheets.Choice(position["enterprise"], HEADER["enterprise"], enterprises),
            sheets.Choice(position["level"], HEADER["level"], ["市级", "省级", "国家级"], listed=False),
        ],
        rows=MAX_ROWS,
    )


def export(user: User) -> bytes:
    """Return the units of the user's unions as a sheet in the template's columns (neutralised cells, no ID numbers)."""
    allowed = scope(user)
    query = sa.select(Unit).options(so.selectinload(Unit.enterprise)).order_by(Unit.kind, Unit.name)
    if allowed is not None:
        query = query.where(Unit.enterprise_id.in_(sorted(allowed)))
    units = db.session.scalars(query)
    rows = (
        [
            SHOWN_KIND[u.kind],
            u.name,
            u.enterprise.name if u.enterprise else "",
            u.workshop or "",
            SHOWN_LEVEL.get(u.level or "", ""),
            u.founded.isoformat() if u.founded else "",
        ]
        for u in units
    )
    return sheets.write_xlsx([h for _k, h in COLUMNS], rows, title="工作室与班组 Units")


def _key_of(header) -> str | None:
    text = str(header or "").strip().lower()
    return next((k for k, h in COLUMNS if text in (h.lower(), *h.lower().split(" ", 1))), None)


def _cell(value) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat() if isinstance(value, date) else _text(value)


def parse(data: bytes, filename: str) -> list[dict]:
    """Read an uploaded sheet into rows keyed by column; refuse a file that cannot be read."""
    table = sheets.read_upload(data, filename, MAX_BYTES, MAX_ROWS)
    positions: dict[str, int] = {}
    for i, cell in enumerate(table[0]):
        key = _key_of(cell)
        if key:
            positions[key] = i
    missing = [str(LABELS[k]) for k, _h in COLUMNS if k not in positions]
    if missing:
        raise ServiceError(
            _("The first row must be the template's header row — missing columns: %(names)s.", names=", ".join(missing))
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if sheets.is_example([cells[positions["name"]]] if positions["name"] < len(cells) else []):
            continue  # the template's example row
        formulas = sheets.formula_keys(cells, positions)
        values = {k: "" if k in formulas else _cell(cells[p]) if p < len(cells) else "" for k, p in positions.items()}
        if any(values.values()) or formulas:
            rows.append({"row": number, **values, **({"formulas": formulas} if formulas else {})})
    if not rows:
        raise ServiceError(_("The file has no units below its header row."))
    return rows


class Checker:
    """Check rows one by one, remembering the units earlier rows named.

    Only the enterprises of the user's unions are known by name: a row naming another county's
    enterprise reads like one naming no enterprise, and is never written.
    """

    def __init__(self, user: User):
        allowed = scope(user)
        self.enterprises: dict[str, list[int]] = {}
        for org_id, name in db.session.execute(sa.select(OrgUnit.id, OrgUnit.name).where(OrgUnit.kind == "enterprise")):
            if allowed is None or org_id in allowed:
                self.enterprises.setdefault(name, []).append(org_id)
        self.existing = {tuple(r) for r in db.session.execute(sa.select(Unit.kind, Unit.enterprise_id, Unit.name))}
        self.seen: dict[tuple, int] = {}

    def check(self, row: dict) -> list[tuple[str, str]]:
        """Return (column key, problem) for everything wrong with one row."""
        found = []
        name = row.get("name", "")
        if not name:
            found.append(("name", _("missing")))
        elif name.startswith(sheets.FORMULA_PREFIXES):
            found.append(("name", _("begins with %(char)s, like a spreadsheet formula", char=name[0])))
        elif len(name) > 120:
            found.append(("name", _("too long (at most %(n)s characters)", n=120)))
        kind = lookup(KINDS, row.get("kind", ""))
        if kind is None:
            found.append(
                ("kind", _("unknown kind “%(value)s”: write 工作室/studio or 班组/team", value=row.get("kind", "")))
            )
        enterprise = self._enterprise(row.get("enterprise", ""), found)
        if row.get("level") and lookup(LEVELS, row["level"]) is None:
            found.append(("level", _("unknown level “%(value)s”: write 市级, 省级 or 国家级", value=row["level"])))
        if row.get("founded") and _date(row["founded"]) is None:
            found.append(("founded", _("not a date: write it as YYYY-MM-DD")))
        if len(row.get("workshop", "")) > 64:
            found.append(("workshop", _("too long (at most %(n)s characters)", n=64)))
        if name and kind and enterprise:
            self._duplicate((kind, enterprise, name), row["row"], found)
        return found

    def _enterprise(self, name: str, found: list) -> int | None:
        ids = self.enterprises.get(name, [])
        if not name:
            found.append(("enterprise", _("missing")))
        elif not ids:
            unknown = _("unknown enterprise “%(name)s”: no enterprise in your unions has this name.", name=name)
            found.append(("enterprise", unknown + sheets.did_you_mean(name, self.enterprises)))
        elif len(ids) > 1:
            found.append(
                ("enterprise", _("“%(name)s” names %(n)s enterprises; ask the organizer", name=name, n=len(ids)))
            )
        return ids[0] if len(ids) == 1 else None

    def _duplicate(self, key: tuple, row: int, found: list) -> None:
        first = self.seen.setdefault(key, row)
        if first != row:
            found.append(("name", _("duplicate: the same unit is in row %(row)s", row=first)))
        elif key in self.existing:
            found.append(("name", _("duplicate: this unit is already registered")))


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def check_rows(user: User, rows: list[dict]) -> list[dict]:
    """Return the report of every problem, as the user may import them: row number, column key, header, message."""
    return _report(rows, Checker(user))


def _report(rows: list[dict], checker: Checker) -> list[dict]:
    names = labels()
    return [
        {"row": row["row"], "field": field, "column": names[field], "message": message}
        for row in rows
        for field, message in sheets.with_formulas(row, checker.check(row))
    ]


def start(user: User, filename: str, data: bytes) -> Upload:
    """Parse an uploaded sheet, check every row, and keep it for the preview; nothing else is written."""
    rows = parse(data, filename)
    return uploads.keep(KIND, user, filename, rows, check_rows(user, rows))


def get_upload(user: User, token: str) -> Upload | None:
    """Return the user's own pending units upload, if any."""
    return uploads.find(KIND, user, token)


def preview(upload: Upload) -> dict:
    """Return every row with its problems, and the counts."""
    return uploads.report(upload, labels())


def confirm(upload: Upload, user: User, only_valid: bool) -> int:
    """Write the upload's rows — all, or only the valid ones — in one transaction, checking them again."""
    with transaction():
        checker = Checker(user)
        problems = _report(upload.rows, checker)
        valid = uploads.rows_to_import(upload.rows, problems, only_valid)
        for row in valid:
            db.session.add(
                Unit(
                    kind=lookup(KINDS, row["kind"]),
                    name=row["name"],
                    enterprise_id=checker.enterprises[row["enterprise"]][0],
                    workshop=row.get("workshop") or None,
                    level=lookup(LEVELS, row.get("level", "")),
                    founded=_date(row["founded"]) if row.get("founded") else None,
                )
            )
        audit.record(
            "unit.imported",
            user,
            None,
            None,
            filename=upload.filename,
            imported=len(valid),
            skipped=len(upload.rows) - len(valid),
        )
        db.session.delete(upload)
    return len(valid)


def discard(upload: Upload) -> None:
    """Forget an upload without importing anything."""
    uploads.forget(upload)
