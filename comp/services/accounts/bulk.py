"""Judges or liaisons in bulk from an .xlsx sheet: template, per-row report, confirmation, links.

The upload is kept between its preview and its confirmation; the confirmation checks every row
again and creates all the accounts (each with its activation link), or none, in one transaction.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_pgettext as _p

from comp.extensions import db
from comp.models import Upload, User
from comp.orgtree import Tree
from comp.permissions import city_wide, scope
from comp.services import ServiceError, transaction
from comp.services.accounts import USERNAME_MAX, find_user
from comp.services.accounts.admin import ROLE_LABELS, UNIT_KINDS, check_grant, invite
from comp.services.common import audit, sheets, uploads

KIND = "accounts"
ROLES = ("judge", "liaison")
MAX_BYTES = 1024 * 1024
MAX_ROWS = 1000
USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
FORMULA_PREFIXES = ("=", "+", "-", "@")


@dataclass(frozen=True)
class Column:
    """A column of the sheet: key, header as the template writes it, its name in the user's language
    (`label`, for pages and messages), other names it is known by."""

    key: str
    header: str
    label: str
    aliases: frozenset[str]


COLUMNS = (
    Column("name", "姓名", _p("sheet column", "Name"), frozenset({"姓名", "name"})),
    Column(
        "unit",
        "单位",
        _p("sheet column", "Unit"),
        frozenset({"单位", "工作单位", "企业", "unit", "employer", "enterprise"}),
    ),
    Column(
        "username",
        "账号（可不填）",
        _p("sheet column", "Username"),
        frozenset({"账号", "用户名", "username", "account"}),
    ),
)
HEADER = {c.key: c.header for c in COLUMNS}


def labels() -> dict[str, str]:
    """Return each column's name in the user's language, by key."""
    return {c.key: str(c.label) for c in COLUMNS}


def units_for(actor: User | None, role: str, tree: Tree | None = None) -> list[str]:
    """Return the names of the unions and enterprises the actor may place accounts of this role in, sorted."""
    if actor is None:
        return []
    tree = tree or Tree()
    allowed = scope(actor, tree)
    kinds = UNIT_KINDS.get(role, ())
    return sorted({n.name for n in tree.nodes.values() if n.kind in kinds and (allowed is None or n.id in allowed)})


def template(role: str, actor: User | None = None) -> bytes:
    """Return the sheet to fill in: its header, an example row the import skips, and a dropdown of the
    unions and enterprises the actor may place these accounts in, listed on a second sheet."""
    units = units_for(actor, role)
    fallback = "泉州市总工会" if role == "judge" else "晋江翔鹭航空"
    example = ["示例 Example：林清华", units[0] if units else fallback, ""]
    return sheets.write_template(
        "裁判" if role == "judge" else "联络员",
        [c.header for c in COLUMNS],
        example,
        [sheets.Choice(2, COLUMNS[1].header, units)],
        rows=MAX_ROWS,
    )


def _key(cell) -> str | None:
    text = re.sub(r"[（(].*?[)）]", "", str(cell or "")).replace("*", "").strip().lower()
    return next((c.key for c in COLUMNS if text in c.aliases), None)


def parse(data: bytes, filename: str) -> list[dict]:
    """Read the sheet into rows keyed by column; refuse a file that cannot be read or lacks a column."""
    table = sheets.read_upload(data, filename, MAX_BYTES, MAX_ROWS, max_cols=16)
    positions: dict[str, int] = {}
    for i, cell in enumerate(table[0]):
        key = _key(cell)
        if key and key not in positions:
            positions[key] = i
    names = labels()
    missing = [names[c.key] for c in COLUMNS if c.key in ("name", "unit") and c.key not in positions]
    if missing:
        raise ServiceError(
            _("The first row must be the template's header row — missing columns: %(names)s.", names=", ".join(missing))
        )
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if sheets.is_example([cells[positions["name"]]] if positions["name"] < len(cells) else []):
            continue  # the template's example row
        formulas = sheets.formula_keys(cells, positions)
        values = {k: "" if k in formulas else _text(cells[p]) if p < len(cells) else "" for k, p in positions.items()}
        if any(values.values()) or formulas:
            rows.append(
                {
                    "row": number,
                    "name": values.get("name", ""),
                    "unit": values.get("unit", ""),
                    "username": values.get("username", ""),
                    **({"formulas": formulas} if formulas else {}),
                }
            )
    if not rows:
        raise ServiceError(_("The file has no people below its header row."))
    return rows


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


class Checker:
    """Check rows one by one, remembering the usernames earlier rows take."""

    def __init__(self, actor: User, role: str):
        self.actor, self.role, self.tree = actor, role, Tree()
        self.allowed = scope(actor, self.tree)
        self.by_name: dict[str, list[int]] = {}
        for node in self.tree.nodes.values():
            self.by_name.setdefault(node.name, []).append(node.id)
        self.taken: dict[str, int] = {}
        self.next_number = _last_number(role)
        self.known: list[str] | None = None  # the units the actor may name, for "did you mean"

    def check(self, row: dict) -> list[tuple[str, str]]:
        """Return (column, problem) for everything wrong with the row."""
        found: list[tuple[str, str]] = []
        name = row["name"]
        if not name:
            found.append(("name", _("missing")))
        elif name.startswith(FORMULA_PREFIXES):
            found.append(("name", _("a formula is not accepted: type the name itself")))
        elif len(name) > 64 or any(not ch.isprintable() for ch in name):
            found.append(("name", _("at most 64 characters, without control characters")))
        found += self._unit(row)
        found += self._username(row)
        return found

    def _unit(self, row: dict) -> list[tuple[str, str]]:
        text = row["unit"]
        if not text:
            if self.role == "judge" and city_wide(self.actor):
                return []
            return [("unit", _("missing"))]
        ids = self.by_name.get(text, [])
        if not ids:
            unknown = _("no union or enterprise is named “%(name)s”.", name=text)
            if self.known is None:
                self.known = units_for(self.actor, self.role, self.tree)
            return [("unit", unknown + sheets.did_you_mean(text, self.known))]
        if len(ids) > 1:
            return [("unit", _("“%(name)s” names %(n)s units; ask the city union", name=text, n=len(ids)))]
        try:
            check_grant(self.actor, self.role, ids[0], self.tree)
        except ServiceError as error:
            return [("unit", str(error))]
        return []

    def _username(self, row: dict) -> list[tuple[str, str]]:
        wanted = row["username"]
        if not wanted:
            return []
        if not USERNAME.fullmatch(wanted) or len(wanted) > USERNAME_MAX:
            return [("username", _("use letters, digits, dot, dash or underscore (at most 64)"))]
        first = self.taken.setdefault(wanted.lower(), row["row"])
        if first != row["row"]:
            return [("username", _("the same username is in row %(row)s", row=first))]
        if find_user(wanted) is not None:
            return [("username", _("username “%(name)s” is taken", name=wanted))]
        return []

    def username(self, row: dict) -> str:
        """Return the row's username, or the next free generated one (judge0007, liaison0003 …)."""
        if row["username"]:
            return row["username"]
        while True:
            self.next_number += 1
            candidate = f"{self.role}{self.next_number:04d}"
            if candidate.lower() not in self.taken and find_user(candidate) is None:
                self.taken[candidate.lower()] = row["row"]
                return candidate


def _last_number(role: str) -> int:
    names = db.session.scalars(sa.select(User.username).where(User.username.like(f"{role}%")))
    numbers = [int(n[len(role) :]) for n in names if n[len(role) :].isdigit() and len(n) - len(role) <= 6]
    return max(numbers, default=0)


def check_rows(actor: User, role: str, rows: list[dict]) -> list[dict]:
    """Return the report of every problem: row, column key, column header, message."""
    checker, report, names = Checker(actor, role), [], labels()
    for row in rows:
        report += [
            {"row": row["row"], "field": field, "column": names[field], "message": message}
            for field, message in sheets.with_formulas(row, checker.check(row))
        ]
    return report


def start(actor: User, role: str, filename: str, data: bytes) -> Upload:
    """Parse and check an uploaded sheet of judges or liaisons and keep it for the preview."""
    if role not in ROLES:
        raise ServiceError(_("Choose judges or liaisons."))
    rows = parse(data, filename)
    return uploads.keep(KIND, actor, filename, [{**r, "role": role} for r in rows], check_rows(actor, role, rows))


def get_upload(actor: User, token: str) -> Upload | None:
    """Return the actor's own kept upload."""
    return uploads.find(KIND, actor, token)


def role_of(upload: Upload) -> str:
    """Return the role the upload's accounts get."""
    return upload.rows[0]["role"] if upload.rows else "judge"


def preview(upload: Upload) -> dict:
    """Return what the preview page shows: every row with its problems, and the counts."""
    return {**uploads.report(upload, labels()), "role": role_of(upload), "role_label": ROLE_LABELS[role_of(upload)]}


def discard(upload: Upload) -> None:
    """Forget an upload without creating anything."""
    uploads.forget(upload)


def confirm(upload: Upload, actor: User, only_valid: bool) -> list[User]:
    """Create the accounts of the valid rows (or of all, if all are valid), each with its activation link."""
    role = role_of(upload)
    problems = check_rows(actor, role, upload.rows)
    if {(p["row"], p["field"]) for p in problems} != {(p["row"], p["field"]) for p in upload.problems}:
        with transaction():
            upload.problems = problems
        raise ServiceError(
            _("The accounts changed since this report was made; it has been updated. Review it and confirm again.")
        )
    valid = uploads.rows_to_import(upload.rows, problems, only_valid)
    checker = Checker(actor, role)
    # The usernames rows ask for are theirs: a name generated for an earlier row never takes one.
    checker.taken.update({row["username"].lower(): row["row"] for row in valid if row["username"]})
    created = []
    with transaction():
        for row in valid:
            unit_id = checker.by_name[row["unit"]][0] if row["unit"] else None
            user, _link = invite(actor, checker.username(row), role, row["name"], unit_id, by="import", row=row["row"])
            created.append(user)
        audit.record(
            "account.imported",
            actor,
            None,
            None,
            filename=upload.filename,
            role=role,
            created=len(created),
            skipped=len(upload.rows) - len(valid),
        )
        db.session.delete(upload)
    return created
