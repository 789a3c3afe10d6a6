"""Printable hall lists: sign-in sheet (签到表), workstation list (工位表), secret-code envelope list.

The lists are built here from the database; `comp.certificates.tables` draws them as A4 PDFs
with the competition's name at the top of every page, the table header repeated and page numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from flask_babel import gettext as _
from reportlab.lib.units import mm

from comp.certificates import tables
from comp.certificates.tables import Table
from comp.extensions import db
from comp.models import Competition, Entrant, OrgUnit
from comp.services import transaction
from comp.services.common import audit
from comp.services.common.sheets import write_xlsx

LISTED = ("approved", "ok", "absent")


def _entrants(competition: Competition, *order) -> Sequence[tuple]:
    return db.session.execute(
        sa.select(Entrant.number, Entrant.name, OrgUnit.name, Entrant.session, Entrant.workstation, Entrant.secret_code)
        .outerjoin(OrgUnit, OrgUnit.id == Entrant.employer_id)
        .where(Entrant.competition_id == competition.id, Entrant.status.in_(LISTED), Entrant.number.is_not(None))
        .order_by(*order)
    ).all()


def signin_table(competition: Competition) -> Table:
    """Return the sign-in sheet: number, name, employer, session, workstation, and room to sign."""
    rows = [
        (n, name, employer or "", s or "", w or "", "")
        for n, name, employer, s, w, _code in _entrants(competition, Entrant.number)
    ]
    return Table(
        _("Sign-in sheet"),
        (
            (_("No."), 16),
            (_("Name"), 32),
            (_("Employer"), 62),
            (_("Session"), 16),
            (_("Workstation"), 20),
            (_("Signature"), 34),
        ),
        rows,
        11 * mm,
        paper_only=1,
    )


def workstation_table(competition: Competition) -> Table:
    """Return the workstation list: session, workstation and number, never a name or a secret code."""
    rows = [
        (s, w, n)
        for n, _name, _employer, s, w, _code in _entrants(
            competition, Entrant.session, Entrant.workstation, Entrant.number
        )
        if s
    ]
    return Table(_("Workstation list"), ((_("Session"), 40), (_("Workstation"), 60), (_("No."), 80)), rows)


def codes_table(competition: Competition) -> Table:
    """Return the secret-code envelope list: contestant number → secret code, for the organizer only."""
    rows = [(n, code or "") for n, _name, _employer, _s, _w, code in _entrants(competition, Entrant.number)]
    return Table(
        _("Secret codes — confidential, for the sealed envelope"), ((_("No."), 60), (_("Secret code"), 120)), rows
    )


def pdf(competition: Competition, table: Table) -> bytes:
    """Return the table as an A4 PDF headed by the competition's name."""
    return tables.pdf(competition.name, competition.code, table)


def xlsx(table: Table) -> bytes:
    """Return the table as an .xlsx workbook, formula-like text neutralised."""
    columns = [h for h, _w in table.columns][: len(table.columns) - table.paper_only]
    return write_xlsx(columns, (row[: len(columns)] for row in table.rows), title=table.title)


def codes_pdf(competition: Competition, actor=None) -> bytes:
    """Return the secret-code envelope list, and audit who printed it."""
    table = codes_table(competition)
    with transaction():
        audit.record("lists.codes", actor, competition, competition, entrants=len(table.rows))
    return pdf(competition, table)
