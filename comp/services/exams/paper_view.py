"""What a candidate's paper page shows: her questions in her order, her answers as shown, and the review.

Read-only: the verbs that write a sitting (start, save an answer, submit) are in `sitting`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from comp.exams import grading as core
from comp.exams import papers
from comp.exams.types import LETTERS
from comp.extensions import db
from comp.models.exam import Answer, QuestionVersion, Sitting
from comp.services.exams import grading
from comp.services.exams.sitting import as_shown


@dataclass(frozen=True)
class Row:
    """One question of a paper as the candidate sees it: the options in her order, her answer as shown."""

    position: int
    version: QuestionVersion
    points: str
    options: tuple[tuple[str, str], ...]  # (shown letter, text)
    response: str
    answer_version: int
    key: str = ""  # the right answer as shown (the review only)
    earned: str = ""  # the points she earned (the review only)


def paper_rows(sitting: Sitting, review: bool = False) -> list[Row]:
    """Return the paper's questions in her order with her answers; with `review`, the key and points too."""
    entries = list(sitting.paper or ())
    refs = {int(e["v"]) for e in entries}
    versions = {v.id: v for v in db.session.scalars(sa.select(QuestionVersion).where(QuestionVersion.id.in_(refs)))}
    answers = {a.position: a for a in db.session.scalars(sa.select(Answer).where(Answer.sitting_id == sitting.id))}
    items = grading.key_items(sitting.exam, refs) if review else {}
    multiple = papers.parse_blueprint(sitting.exam.blueprint).multiple if review else "all"
    rows = []
    for position, entry in enumerate(entries):
        version, answer = versions[int(entry["v"])], answers.get(position)
        order = entry.get("o") or ()
        options = tuple((LETTERS[i], version.options[stored]) for i, stored in enumerate(order))
        key = earned = ""
        if review:
            item = items[version.id]
            key = as_shown(entry, item.answer)
            got = core.mark(item, papers.paper_from([entry])[0].points, answer.response if answer else "", multiple)
            earned = papers.fraction_text(got)
        rows.append(
            Row(
                position=position,
                version=version,
                points=str(entry.get("p", "")),
                options=options,
                response=as_shown(entry, answer.response if answer else ""),
                answer_version=answer.version if answer else 0,
                key=key,
                earned=earned,
            )
        )
    return rows


def image_on_paper(sitting: Sitting, image_id: int) -> bool:
    """Tell whether a stem image belongs to a question on the sitting's paper."""
    refs = [int(e["v"]) for e in sitting.paper or ()]
    return bool(
        refs
        and db.session.scalar(
            sa.select(QuestionVersion.id).where(QuestionVersion.id.in_(refs), QuestionVersion.image_id == image_id)
        )
    )
