"""A bank's files: the .xlsx sheet Chinese organizers use and Moodle's GIFT text (stem images are in `images`).

An import reads every row (or GIFT question), checks each as the question form does, and writes
all of them in one transaction, or nothing when any is refused; the report names each refused
row, its column and what is wrong. A row whose 题号 is already in the bank adds a version when its
content differs. Exports write the same layouts, so an export imports back unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import gettext as _

from comp.exams import gift
from comp.exams.types import LETTERS
from comp.extensions import db
from comp.models import User
from comp.models.exam import Question, QuestionBank
from comp.models.types import plain
from comp.services import ServiceError, transaction
from comp.services.common import audit, sheets, xlsx_stream
from comp.services.exams import bank as banks
from comp.services.exams import bank_checks

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
OPTION_KEYS = tuple(f"option_{letter}" for letter in LETTERS[: bank_checks.MAX_OPTIONS])
HEADERS = (
    ("code", "题号"),
    ("kind", "题型"),
    ("stem", "题干"),
    *((key, f"选项{key[-1]}") for key in OPTION_KEYS),
    ("answer", "答案"),
    ("tolerance", "容差"),
    ("explanation", "解析"),
    ("difficulty", "难度"),
    ("area", "知识点"),
    ("source", "来源"),
)
ALIASES = {
    "误差": "tolerance",
    "允许误差": "tolerance",
    "试题编号": "code",
    "编号": "code",
    "题目": "stem",
    "试题": "stem",
    "正确答案": "answer",
    "答案解析": "explanation",
    "试题解析": "explanation",
    "难易程度": "difficulty",
    "难易度": "difficulty",
    "知识点分类": "area",
    "出处": "source",
    "kind": "kind",
    "type": "kind",
    "stem": "stem",
    "question": "stem",
    "answer": "answer",
    "explanation": "explanation",
    "difficulty": "difficulty",
    "area": "area",
    "source": "source",
    "code": "code",
    "tolerance": "tolerance",
    **{letter: f"option_{letter}" for letter in LETTERS[: bank_checks.MAX_OPTIONS]},
    **{f"option {letter.lower()}": f"option_{letter}" for letter in LETTERS[: bank_checks.MAX_OPTIONS]},
    **{f"选项{letter.lower()}": f"option_{letter}" for letter in LETTERS[: bank_checks.MAX_OPTIONS]},
}


def _norm(name: str) -> str:
    """Return a header as it is looked up: no spaces, lower case."""
    return re.sub(r"\s+", "", name).lower()


COLUMN_OF = {**{_norm(header): key for key, header in HEADERS}, **{_norm(k): v for k, v in ALIASES.items()}}


def labels() -> dict[str, str]:
    """Return each column key's name in a report: the Chinese header, and "选项A–H" for the options together."""
    return {**dict(HEADERS), "options": "选项A–H", "gift": _("Question"), "file": _("File")}


@dataclass
class Report:
    """What an import found: each row (its number, code, what happens to it) and each problem."""

    rows: list[dict] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)

    def refuse(self, row: int, key: str, message: str) -> None:
        """Note a problem of one row's column."""
        self.problems.append({"row": row, "field": key, "column": labels().get(key, key), "message": message})

    def tally(self) -> dict[str, int]:
        """Count the rows by what happens to them: added, versioned, unchanged."""
        found = {"added": 0, "versioned": 0, "unchanged": 0}
        for row in self.rows:
            if row.get("outcome") in found:
                found[row["outcome"]] += 1
        return found

    def page(self) -> dict:
        """Return the report as _upload_report.html shows it."""
        by_row: dict[object, list[dict]] = {}
        for problem in self.problems:
            by_row.setdefault(problem["row"], []).append(problem)
        bad = set(by_row)
        rows = [{**r, "problems": by_row.get(r["row"], [])} for r in self.rows]
        return {"problems": self.problems, "rows": rows, "bad": len(bad), "valid": len(rows) - len(bad)}


class ImportRefused(ServiceError):
    """An import with a problem in some row: nothing was written; `report` says where."""

    def __init__(self, report: Report):
        bad = len({p["row"] for p in report.problems})
        super().__init__(_("%(count)s rows have problems: nothing was imported.", count=bad))
        self.report = report


# ---------------------------------------------------------------- reading


def _text(value) -> str:
    """Return a cell as text: whole numbers lose their ".0"; our own export's formula guard (a leading ') goes."""
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:2] and text[1] in sheets.FORMULA_PREFIXES:
        return text[1:]
    return text


def _columns(header: list) -> dict[str, int]:
    """Map each column key to its position; refuse a header with unknown, repeated or missing columns."""
    found: dict[str, int] = {}
    unknown, repeated = [], []
    for position, cell in enumerate(header):
        name = "" if cell is None else str(cell).strip()
        if not name:
            continue
        key = COLUMN_OF.get(_norm(name))
        if key is None:
            unknown.append(name)
        elif key in found:
            repeated.append(name)
        else:
            found[key] = position
    missing = [dict(HEADERS)[k] for k in ("kind", "stem", "answer") if k not in found]
    problems = []
    if missing:
        problems.append(_("missing columns: %(names)s", names=sheets.quoted_list(missing)))
    if unknown:
        problems.append(_("unknown columns: %(names)s", names=sheets.quoted_list(unknown)))
    if repeated:
        problems.append(_("repeated columns: %(names)s", names=sheets.quoted_list(repeated)))
    if problems:
        raise ServiceError(
            _(
                "The first row must be the header row (题型, 题干, 选项A…, 答案 …) — %(problems)s.",
                problems="; ".join(problems),
            )
        )
    return found


def read_sheet(data: bytes, filename: str) -> list[dict]:
    """Read an uploaded .xlsx into rows {row, kind, stem, options, answer, …}; refuse a file that cannot be read."""
    table = sheets.read_upload(data, filename, MAX_BYTES, MAX_ROWS, max_cols=32)
    columns, rows = _columns(table[0]), []
    for number, cells in enumerate(table[1:], start=2):
        if sheets.is_example(cells[:1]) or (
            columns.get("code") is not None and sheets.is_example(cells[columns["code"] :])
        ):
            continue
        formulas = sheets.formula_keys(cells, columns)
        values = {
            key: "" if key in formulas else _text(cells[at]) if at < len(cells) else "" for key, at in columns.items()
        }
        if not any(values.values()) and not formulas:
            continue
        row = {"row": number, **{k: v for k, v in values.items() if not k.startswith("option_")}}
        row["options"] = [values.get(key, "") for key in OPTION_KEYS]
        rows.append({**row, **({"formulas": formulas} if formulas else {})})
    if not rows:
        raise ServiceError(_("The file has no questions below its header row."))
    return rows


def read_gift(data: bytes, filename: str) -> list[dict]:
    """Read an uploaded GIFT text into rows, each numbered by the line its question starts on."""
    if len(data) > MAX_BYTES:
        raise ServiceError(
            _(
                "The file is too large: %(size)s KB, the limit is %(limit)s KB.",
                size=len(data) // 1024,
                limit=MAX_BYTES // 1024,
            )
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ServiceError(_("The file is not text in UTF-8 or GB18030.")) from None
    if "\0" in text:
        raise ServiceError(_("The file is not a GIFT text file."))
    rows: list[dict] = []
    for found in gift.read(text):
        if len(rows) >= MAX_ROWS:  # unreadable paragraphs count too: a wrong file never runs past the cap
            raise ServiceError(_("The file has more than %(n)s questions.", n=MAX_ROWS))
        if isinstance(found, gift.GiftError):
            rows.append({"row": found.line, "gift_error": [found.problem, found.detail], "kind": "", "stem": ""})
            continue
        rows.append(
            {
                "row": found.line,
                "code": found.code,
                "kind": found.kind,
                "stem": found.stem,
                "options": list(found.options),
                "answer": found.answer,
                "explanation": found.explanation,
                "tolerance": plain(found.tolerance) if found.tolerance is not None else "",
                "difficulty": str(found.difficulty),
                "area": found.area,
                "source": found.source,
            }
        )
    if not rows:
        raise ServiceError(_("The file holds no question."))
    return rows


def gift_message(problem: str, detail: str) -> str:
    """Word a GIFT problem code in the user's language."""
    messages = {
        "unclosed": _("“%(detail)s” is opened but never closed."),
        "no_answers": _("no answers in braces { } after the question."),
        "essay": _("an essay question ({}) is not supported: give its answers."),
        "matching": _("a matching question (->) is not supported."),
        "short_answer": _(
            "a short-answer question (only = answers) is not supported: "
            "add wrong options with ~, or write a number as {#…}."
        ),
        "numeric": _("“%(detail)s” is not a number, a number:tolerance, or a range low..high."),
        "numeric_several": _(
            "a numeric question with several weighted answers is not supported: give one answer and its tolerance."
        ),
        "no_right": _("no right answer: mark it with = or a positive weight ~%%50%%."),
        "options": _("a choice question needs 2 to 8 options; this one has %(detail)s."),
        "empty_stem": _("the question text is empty."),
        "empty_option": _("option %(detail)s is empty."),
        "difficulty": _("the difficulty comment says “%(detail)s”; it must be 1 to 5."),
        "together": _("two questions with no blank line between them."),
    }
    return messages.get(problem, problem) % {"detail": detail}


# ---------------------------------------------------------------- checking and writing


@dataclass(frozen=True)
class _Plan:
    """What one valid row does: add a question, or add a version to the question with its code."""

    row: int
    code: str
    content: bank_checks.Content
    question: Question | None


def _check(bank: QuestionBank, rows: list[dict]) -> tuple[Report, list[_Plan]]:
    """Check every row as the question form does; return the report and what each valid row will do."""
    report, plans = Report(), []
    existing = {q.code: q for q in banks.questions(bank)}
    seen: dict[str, int] = {}
    for row in rows:
        number, code = row["row"], str(row.get("code") or "").strip()
        shown = {"row": number, "code": code, "kind": row.get("kind", ""), "stem": str(row.get("stem", ""))[:80]}
        report.rows.append(shown)
        if row.get("gift_error"):
            report.refuse(number, "gift", gift_message(*row["gift_error"]))
            continue
        content, problems = _content(row, _image_of(existing.get(code)))
        found = sheets.with_formulas(row, problems)
        if code and code in seen:
            found.append(("code", _("The code %(code)s is also in row %(row)s.", code=code, row=seen[code])))
        elif code and bank_checks.code_problem(code):
            found.append(("code", bank_checks.code_problem(code) or ""))
        if code:
            seen.setdefault(code, number)
        for key, message in found:
            report.refuse(number, key, message)
        if found or content is None:
            continue
        question = existing.get(code) if code else None
        shown["kind"] = banks.kind_label(content.kind)
        if question is None:
            shown["outcome"] = "added"
        elif bank_checks.Content.of(question.current) == content:
            shown["outcome"] = "unchanged"
        else:
            shown["outcome"] = "versioned"
        plans.append(_Plan(number, code, content, question))
    return report, plans


def _image_of(question: Question | None) -> int | None:
    """Keep a question's image across an import: neither sheet nor GIFT carries it."""
    return question.current.image_id if question is not None else None


def _content(row: dict, image_id: int | None) -> tuple[bank_checks.Content | None, list[tuple[str, str]]]:
    """Return the row's content, or (None, each problem as (column key, message))."""
    try:
        return bank_checks.check(row, image_id), []
    except bank_checks.QuestionProblems as refused:
        return None, list(refused.problems.items())


def import_rows(bank: QuestionBank, user: User, filename: str, rows: list[dict]) -> Report:
    """Write every row's question or version in one transaction; refuse them all if any row has a problem."""
    report, plans = _check(bank, rows)
    if report.problems:
        raise ImportRefused(report)
    try:
        with transaction():
            taken = banks.codes(bank) | {plan.code for plan in plans if plan.code}
            for plan in plans:
                if plan.question is None:
                    banks.new_question(bank, user, plan.content, plan.code or banks.next_code(taken))
                else:
                    banks.next_version(plan.question, user, plan.content)
            db.session.flush()
            changed = [r["code"] for r in report.rows if r.get("outcome") in ("added", "versioned") and r["code"]]
            audit.record("bank.imported", user, None, bank, filename=filename[:200], codes=changed, **report.tally())
    except sa.exc.IntegrityError:  # someone added a question with one of these codes meanwhile
        raise ServiceError(
            _("The bank changed while importing; nothing was imported. Upload the file again.")
        ) from None
    return report


def import_file(bank: QuestionBank, user: User, filename: str, data: bytes) -> Report:
    """Import an .xlsx sheet or a GIFT text (.gift or .txt), all or nothing."""
    name = (filename or "").lower()
    if name.endswith((".gift", ".txt")):
        return import_rows(bank, user, filename, read_gift(data, filename))
    return import_rows(bank, user, filename, read_sheet(data, filename))


# ---------------------------------------------------------------- writing files


def template() -> bytes:
    """Return the sheet to fill in: the header row, an example row the import skips, a kind dropdown."""
    example = ["示例", "单选", "绿茶属于哪一类茶？", "不发酵茶", "半发酵茶", "全发酵茶", "后发酵茶"]
    example += [""] * 4 + ["A", "", "绿茶不经发酵。", "易", "茶叶分类", "教材第1章"]
    kinds = ["单选", "多选", "判断", "数值"]
    return sheets.write_template(
        "题库 Questions",
        [header for _key, header in HEADERS],
        example,
        [
            sheets.Choice(2, "题型", kinds, listed=False),
            sheets.Choice(15, "难度", ["易", "较易", "中", "较难", "难"], strict=False, listed=False),
        ],
        rows=MAX_ROWS,
    )


def _answer_cell(version) -> str:
    """Return the answer as the sheet shows it: letters, 对/错, or the number as text (a float would round it)."""
    if version.kind == "truefalse":
        return "对" if version.answer == "T" else "错"
    return version.answer


def export_rows(bank: QuestionBank) -> Iterator[list]:
    """Yield one sheet row per question in use (its current version), in the header's order."""
    kinds = {"single": "单选", "multiple": "多选", "truefalse": "判断", "numeric": "数值"}
    for question in banks.questions(bank):
        if question.retired:
            continue
        v = question.current
        options = list(v.options or []) + [""] * (bank_checks.MAX_OPTIONS - len(v.options or []))
        tolerance = plain(v.tolerance) if v.tolerance is not None else ""
        yield [
            question.code,
            kinds[v.kind],
            v.stem,
            *options,
            _answer_cell(v),
            tolerance,
            v.explanation,
            v.difficulty,
            v.area,
            v.source,
        ]


def export_xlsx(bank: QuestionBank) -> Iterator[bytes]:
    """Yield the bank as an .xlsx in the import layout, streamed."""
    return xlsx_stream.stream([header for _key, header in HEADERS], export_rows(bank), title="题库")


def export_gift(bank: QuestionBank) -> str:
    """Return the bank's questions in use as GIFT text."""
    items = []
    for question in banks.questions(bank):
        if question.retired:
            continue
        v = question.current
        items.append(
            gift.Parsed(
                0,
                v.kind,
                v.stem,
                tuple(v.options or ()),
                v.answer,
                v.tolerance,
                v.explanation,
                v.area,
                question.code,
                v.difficulty,
                v.source,
            )
        )
    items.sort(key=lambda item: item.area)  # one category line per area
    return gift.dump(items)
