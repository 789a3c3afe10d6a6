"""Item analysis of an exam: the finished sittings' responses, scored with the corrected key, analysed by the core.

Each finished sitting gives one row {question version: (stored response, points earned)}; the core
(`comp.exams.analysis`) computes the facility, discrimination, point-biserial and option counts of each
item and the paper's mean, spread and reliability. Here the rows are read in three queries, the items
are labelled for the page (question code, kind, stem, key), and the totals binned for a histogram.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from io import BytesIO

import sqlalchemy as sa
from flask_babel import gettext as _
from openpyxl import Workbook

from comp.exams import analysis, papers
from comp.exams import grading as core
from comp.exams.types import LETTERS, Item
from comp.extensions import db
from comp.models.exam import Exam, QuestionVersion
from comp.services.common.sheets import safe_cell
from comp.services.exams import grading

BINS = 10  # the histogram's bars: tenths of the paper's total


@dataclass(frozen=True)
class Line:
    """One item of the table: the core's statistics with what the page names it by."""

    stats: analysis.ItemStats
    code: str
    number: int
    kind: str
    stem: str
    key: str  # the (corrected) key as stored letters or a number
    letters: tuple[str, ...]  # the option letters to count, in stored order; () for numeric answers


@dataclass(frozen=True)
class Report:
    """An exam's analysis: the paper's figures, one line per item, the histogram of totals."""

    paper: analysis.PaperStats
    lines: tuple[Line, ...]
    total: Fraction
    histogram: tuple[tuple[Fraction, Fraction, int], ...]  # (from, to, sittings)

    @property
    def places(self) -> int:
        """Return the decimals the histogram's bounds need: none when each bar spans whole points."""
        return 0 if (self.total / BINS).denominator == 1 else 1

    @property
    def tallest(self) -> int:
        """Return the highest bar, the histogram's scale."""
        return max((n for _, _, n in self.histogram), default=0) or 1


def rows_of(
    exam: Exam,
) -> tuple[list[dict[int, tuple[str, Fraction]]], dict[int, Fraction], dict[int, Item], list[Fraction]]:
    """Return a row per finished sitting (stored response, points by the corrected key), the maxima, the items,
    and each sitting's total as its paper counts it."""
    finished = grading.finished_sittings(exam)
    items = grading.key_items(exam, grading.used_refs(finished))
    answers = grading.responses_of([s.id for s in finished])
    multiple = papers.parse_blueprint(exam.blueprint).multiple
    marked: list[dict[int, tuple[str, Fraction, Fraction]]] = []
    maxima: dict[int, Fraction] = {}
    for sitting in finished:
        row: dict[int, tuple[str, Fraction, Fraction]] = {}
        for position, entry in enumerate(papers.paper_from(sitting.paper)):
            response = answers[sitting.id].get(position, "")
            row[entry.ref] = (response, core.mark(items[entry.ref], entry.points, response, multiple), entry.points)
            maxima[entry.ref] = max(maxima.get(entry.ref, Fraction(0)), entry.points)
        marked.append(row)
    # Overlapping sections may draw one item at 1 point on one paper and 2 on another: each earning is put on
    # the item's largest worth, so a right answer is right (facility 1, the item still all-or-nothing).
    rows = [
        {
            ref: (response, earned * maxima[ref] / worth if worth else earned)
            for ref, (response, earned, worth) in row.items()
        }
        for row in marked
    ]
    totals = [sum((earned for _r, earned, _w in row.values()), Fraction(0)) for row in marked]
    return rows, maxima, items, totals


def _histogram(totals: list[Fraction], total: Fraction) -> tuple[tuple[Fraction, Fraction, int], ...]:
    width = total / BINS if total else Fraction(1)
    counts = [0] * BINS
    for points in totals:
        counts[min(BINS - 1, int(points / width))] += 1
    return tuple((width * i, width * (i + 1), counts[i]) for i in range(BINS))


def report(exam: Exam) -> Report | None:
    """Return the exam's item analysis, or None before any sitting has finished."""
    rows, maxima, items, totals = rows_of(exam)
    if not rows:
        return None
    paper = analysis.analyse(rows, maxima)
    found = db.session.scalars(sa.select(QuestionVersion).where(QuestionVersion.id.in_(list(maxima))))
    versions = {v.id: v for v in found}
    lines = []
    for stats in paper.items:
        version, item = versions[stats.ref], items[stats.ref]
        letters = tuple(LETTERS[: len(item.options)]) if item.kind in ("single", "multiple") else ()
        if item.kind == "truefalse":
            letters = ("T", "F")
        lines.append(Line(stats, version.question.code, version.number, item.kind, version.stem, item.answer, letters))
    total = papers.total_points(papers.parse_blueprint(exam.blueprint))
    return Report(paper, tuple(lines), total, _histogram(totals, total))


def percent(value: Fraction | float | None) -> str:
    """Show a share as a per cent with one decimal."""
    return "—" if value is None else f"{float(value) * 100:.1f}"


def workbook(exam: Exam, found: Report) -> bytes:
    """Return the item table as an .xlsx workbook: the paper's figures, then one row per item."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has its sheet
    sheet.title = _("Item analysis")[:31]
    sheet.append([safe_cell(exam.title), exam.code])
    paper = found.paper
    sheet.append([_("Sittings"), paper.count, _("Mean"), float(paper.mean), _("Standard deviation"), float(paper.sd)])
    kr20, alpha = (None if value is None else float(value) for value in (paper.kr20, paper.alpha))
    sheet.append(["KR-20", kr20, "α", alpha])
    sheet.append([])
    sheet.append(
        [
            _("Question"),
            _("Version"),
            _("Type"),
            _("Answer key"),
            _("Sittings"),
            _("Facility %"),
            _("Discrimination %"),
            _("Point-biserial"),
            _("Options chosen"),
            _("Review"),
        ]
    )
    for line in found.lines:
        s = line.stats
        sheet.append(
            [
                safe_cell(line.code),
                line.number,
                line.kind,
                line.key,
                s.count,
                round(float(s.facility) * 100, 1),
                round(float(s.discrimination) * 100, 1),
                None if s.point_biserial is None else round(s.point_biserial, 3),
                " ".join(f"{k or '—'}:{n}" for k, n in sorted(s.options.items())),
                _("review") if s.flagged else "",
            ]
        )
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def figure(value: Fraction | Decimal | float | None, places: int = 2) -> str:
    """Show a figure rounded to `places` decimals ("—" when there is none)."""
    return "—" if value is None else f"{float(value):.{places}f}"


def bar(value: Fraction | float | None, scale: int = 100) -> int:
    """Return a bar's length in the chart's units for a share from 0 to 1 (negative shares: their size)."""
    return 0 if value is None else min(scale, round(abs(float(value)) * scale))
