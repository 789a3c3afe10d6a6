"""Bulk registration from an .xlsx sheet: template, upload, per-row report, confirmation.

An upload is kept (ID numbers encrypted) between its preview and its confirmation; the
confirmation checks every row again and writes all of it, or nothing, in one transaction.
"""

from __future__ import annotations

from flask_babel import gettext as _

from comp import idcard
from comp.extensions import db
from comp.models import SKILL_GRADES, Competition, Upload, User
from comp.services import ServiceError, transaction
from comp.services.common import audit, sheets, uploads
from comp.services.registration import lock, trades_of, window_problem
from comp.services.registration.rows import (
    COLUMNS,
    HEADER,
    check_rows,
    column_of,
    employers,
    labels,
    liaison_unit,
    write_rows,
)
from comp.services.setup import lifecycle

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
KIND = "registration"


EXAMPLE_ID = "350582199001011230"  # its check digit is wrong: were the example row ever read, it would be refused


def template(competition: Competition, user: User) -> bytes:
    """Return the registration sheet to fill in: the header row, an example row the import skips, dropdowns
    for the employer (the enterprises this user may register), the trade and the grade, and those lists."""
    names = employers(competition, user)
    trades = trades_of(competition)
    position = {c.key: number for number, c in enumerate(COLUMNS, start=1)}
    example = ["示例 Example：林清华", EXAMPLE_ID, "13800000000", names[0] if names else "", "", 3, ""]
    example[position["trade"] - 1] = trades[0] if trades else "电工"
    return sheets.write_template(
        "报名 Registration",
        [c.header for c in COLUMNS],
        example,
        [
            sheets.Choice(position["employer"], HEADER["employer"], names),
            sheets.Choice(position["trade"], HEADER["trade"], trades),
            sheets.Choice(position["grade"], HEADER["grade"], [str(g) for g in sorted(SKILL_GRADES)], listed=False),
        ],
        rows=MAX_ROWS,
    )


def _columns(header_row: list) -> dict[str, int]:
    """Map each column key to its position; refuse unknown, repeated or missing columns, naming them."""
    found: dict[str, int] = {}
    unknown, repeated = [], []
    for position, cell in enumerate(header_row):
        if cell is None or not str(cell).strip():
            continue
        key = column_of(cell)
        if key is None:
            unknown.append(str(cell).strip())
        elif key in found:
            repeated.append(str(cell).strip())
        else:
            found[key] = position
    names = labels()
    missing = [names[c.key] for c in COLUMNS if c.required and c.key not in found]
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s", names=", ".join(missing)))
    if unknown:
        problems.append(_("unknown columns: %(names)s", names=", ".join(unknown)))
    if repeated:
        problems.append(_("repeated columns: %(names)s", names=", ".join(repeated)))
    if problems:
        raise ServiceError(
            _("The first row must be the template's header row — %(problems)s.", problems="; ".join(problems))
        )
    return found


def _text(value) -> str:
    """Return a cell as trimmed text; whole numbers typed as numbers lose their ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _loose_mask(number: str) -> str:
    return idcard.mask(number) if len(number) > 8 else "*" * len(number)


def parse(data: bytes, filename: str) -> list[dict]:
    """Read an uploaded sheet into rows (ID numbers encrypted); refuse a file that cannot be read."""
    table = sheets.read_upload(data, filename, MAX_BYTES, MAX_ROWS)
    columns, protector, rows = _columns(table[0]), idcard.protector(), []
    for number, cells in enumerate(table[1:], start=2):
        if sheets.is_example([cells[columns["name"]]] if columns["name"] < len(cells) else []):
            continue  # the template's example row
        formulas = sheets.formula_keys(cells, columns)
        values = {
            key: "" if key in formulas else _text(cells[pos]) if pos < len(cells) else ""
            for key, pos in columns.items()
        }
        if not any(values.values()) and not formulas:
            continue
        raw = values.pop("id_number", "")
        rows.append(
            {
                "row": number,
                **{c.key: values.get(c.key, "") for c in COLUMNS if c.key != "id_number"},
                "id": protector.encrypt(raw).decode() if raw else "",
                "id_shown": _loose_mask(raw),
                **({"formulas": formulas} if formulas else {}),
            }
        )
    if not rows:
        raise ServiceError(_("The file has no registrations below its header row."))
    return rows


def status_for(competition: Competition, user: User) -> str:
    """Organizers' uploads are approved at once; a liaison's wait for the organizer."""
    return "pending" if liaison_unit(competition, user) else "approved"


def check_open(competition: Competition, user: User) -> None:
    """Refuse bulk registration unless the competition takes registrations from this user now."""
    if liaison_unit(competition, user) is None and competition.status == "open" and competition.kind == "competition":
        return  # organizers may enter people outside the window (late paper forms)
    problem = window_problem(competition)
    if problem:
        raise ServiceError(problem)


def start(competition: Competition, user: User, filename: str, data: bytes) -> Upload:
    """Parse an uploaded sheet, check every row, and keep it for the preview."""
    check_open(competition, user)
    rows = parse(data, filename)
    return uploads.keep(KIND, user, filename, rows, check_rows(competition, user, rows), competition_id=competition.id)


def preview(competition: Competition, user: User, upload: Upload) -> dict:
    """Return what the preview page shows: every row with its problems, and the counts."""
    return {
        **uploads.report(upload, labels()),
        "competition": competition,
        "status_after": status_for(competition, user),
        "liaison": liaison_unit(competition, user),
        "columns": COLUMNS,
    }


def get_upload(competition: Competition, user: User, token: str) -> Upload | None:
    """Return the user's own pending upload for the competition, if any."""
    return uploads.find(KIND, user, token, competition_id=competition.id)


def discard(upload: Upload) -> None:
    """Forget an upload without importing it."""
    uploads.forget(upload)


class _Changed(Exception):
    def __init__(self, problems: list[dict]):
        super().__init__("report changed")
        self.problems = problems


def _keys(problems: list[dict]) -> set[tuple]:
    return {(p["row"], p["field"]) for p in problems}


def confirm(upload: Upload, user: User, only_valid: bool, approve: bool = True) -> int:
    """Import the upload's rows — all, or only the valid ones — in one transaction; organizers may approve them."""
    competition = db.session.get(Competition, upload.competition_id)
    assert competition is not None  # a registration upload is kept for its competition
    check_open(competition, user)
    try:
        with transaction():
            lock(competition)
            problems = check_rows(competition, user, upload.rows)
            if _keys(problems) != _keys(upload.problems):
                raise _Changed(problems)
            valid = uploads.rows_to_import(upload.rows, problems, only_valid)
            status = status_for(competition, user) if approve else "pending"
            write_rows(competition, user, valid, status)
            lifecycle.touch(competition)
            audit.record(
                "registration.imported",
                user,
                competition,
                competition,
                filename=upload.filename,
                imported=len(valid),
                skipped=len(upload.rows) - len(valid),
                status=status,
            )
            db.session.delete(upload)
    except _Changed as changed:
        with transaction():
            upload.problems = changed.problems
        raise ServiceError(
            _("The registrations changed since this report was made; it has been updated. Review it and confirm again.")
        ) from None
    return len(valid)
