"""The results as a spreadsheet: every entrant's figures, and the team standings (团体)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.extensions import db
from comp.labels import entrant_status_label
from comp.models import Competition, Entrant, OrgUnit
from comp.services import results
from comp.services.common.sheets import write_workbook


def results_xlsx(competition: Competition) -> bytes:
    """Return the results document as a workbook: a results sheet and a team-standings sheet."""
    loaded, outcome = results.compute(competition)
    doc = results.document_from(competition, loaded, outcome)
    employers = dict(
        db.session.execute(
            sa.select(Entrant.ref, OrgUnit.name)
            .outerjoin(OrgUnit, OrgUnit.id == Entrant.employer_id)
            .where(Entrant.competition_id == competition.id)
        ).all()
    )
    stages = loaded.scheme.stages
    headers = (
        [_("Rank"), _("Ref"), _("Name"), _("Employer")]
        + [s.name for s in stages]
        + [_("Total"), _("Award"), _("Status")]
    )
    rows = (
        [row["rank"], row["ref"], row["name"], employers.get(row["ref"]) or ""]
        + [row["stages"].get(s.key) for s in stages]
        + [row["total"], row["award"] or "", entrant_status_label(row["status"])]
        for row in doc["results"]
    )
    names = {row["ref"]: row["name"] for row in doc["results"]}
    teams = (
        [team["rank"], team["team"], team["total"], "、".join(names.get(m, m) for m in team["members"])]
        for team in doc["teams"]
    )
    sheets = [(_("Results"), headers, rows)]
    if competition.kind == "competition":
        sheets.append((_("Team standings"), [_("Rank"), _("Team"), _("Total"), _("Members counted")], teams))
    return write_workbook(sheets)
