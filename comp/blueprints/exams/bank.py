"""Question banks (题库): the list, a bank's questions, a question's versions, imports, exports, images.

Only admins and organizers whose scope holds a bank's owner unit see or change it (403 for anyone
else, the login page for a visitor); a stem image is shown to them and to a candidate whose paper
uses it.
"""

from __future__ import annotations

import dataclasses
import io

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional

from comp.blueprints.answers import REFUSED
from comp.blueprints.exams import bp
from comp.blueprints.uploads import XLSX, download
from comp.extensions import db, login
from comp.forms import Form
from comp.models.exam import QuestionBank, QuestionImage
from comp.models.types import plain
from comp.services import ServiceError
from comp.services.exams import bank as banks
from comp.services.exams import bank_checks, bankfile, images

LETTERS = "ABCDEFGH"
DIFFICULTIES = [
    SelectChoice("1", _l("1 · easy (易)")),
    SelectChoice("2", _l("2 · fairly easy (较易)")),
    SelectChoice("3", _l("3 · medium (中)")),
    SelectChoice("4", _l("4 · fairly hard (较难)")),
    SelectChoice("5", _l("5 · hard (难)")),
]


class BankForm(Form):
    """A new bank: its name and trade."""

    name = StringField(_l("Bank name"), validators=[Length(max=banks.NAME_LENGTH)])
    trade = StringField(_l("Trade"), validators=[Length(max=banks.TRADE_LENGTH)])
    submit = SubmitField(_l("Create the bank"))


class QuestionForm(Form):
    """A question's content: a new question, or the next version of one."""

    code = StringField(_l("Code (题号)"), validators=[Optional(), Length(max=40)])
    kind = SelectField(_l("Question type"), choices=[])
    stem = TextAreaField(_l("Question (题干)"))
    option_A = StringField("A")
    option_B = StringField("B")
    option_C = StringField("C")
    option_D = StringField("D")
    option_E = StringField("E")
    option_F = StringField("F")
    option_G = StringField("G")
    option_H = StringField("H")
    answer = StringField(_l("Answer key"), description=_l("Letters (A, ACD), 对 or 错, or a number"))
    tolerance = StringField(_l("Tolerance (numeric)"), description=_l("Right within this much either side"))
    explanation = TextAreaField(_l("Explanation (解析)"))
    area = StringField(_l("Knowledge area (知识点)"))
    difficulty = SelectField(_l("Difficulty"), choices=DIFFICULTIES, default="3")
    source = StringField(_l("Source"))
    image = FileField(_l("Image (PNG or JPEG, at most 1 MB)"), render_kw={"accept": "image/png,image/jpeg"})
    remove_image = BooleanField(_l("Remove the image"))
    submit = SubmitField(_l("Save"))

    def fill_kinds(self) -> QuestionForm:
        """Offer the kinds in the user's language."""
        self.kind.choices = [SelectChoice(kind, banks.kind_label(kind)) for kind in bank_checks.KIND_WORDS]
        return self

    def fields(self) -> dict:
        """Return the texts the service checks."""
        return {
            "kind": self.kind.data,
            "stem": self.stem.data,
            "answer": self.answer.data,
            "tolerance": self.tolerance.data,
            "explanation": self.explanation.data,
            "area": self.area.data,
            "difficulty": self.difficulty.data,
            "source": self.source.data,
            "options": [self[f"option_{letter}"].data for letter in LETTERS],
        }

    def attach(self, problems: dict[str, str]) -> None:
        """Show each problem beside its field; the options' beside option A."""
        for key, message in problems.items():
            name = "option_A" if key == "options" else key
            if name in self:
                self[name].errors = [*self[name].errors, message]
            else:
                self.form_errors.append(message)

    def load(self, version) -> None:
        """Fill the form with a version's content."""
        self.kind.data, self.stem.data, self.answer.data = version.kind, version.stem, version.answer
        self.tolerance.data = plain(version.tolerance) or ""
        self.explanation.data, self.area.data, self.source.data = version.explanation, version.area, version.source
        self.difficulty.data = str(version.difficulty)
        for index, letter in enumerate(LETTERS):
            self[f"option_{letter}"].data = version.options[index] if index < len(version.options) else ""


class ImportForm(Form):
    """The .xlsx sheet or GIFT text to import."""

    sheet = FileField(
        _l("Questions (.xlsx, or GIFT as .gift or .txt)"),
        validators=[FileRequired(_l("Choose a file."))],
        render_kw={"accept": ".xlsx,.gift,.txt"},
    )
    submit = SubmitField(_l("Check and import"))


class ActionForm(Form):
    """A button that only needs the CSRF token."""

    submit = SubmitField()


# ---------------------------------------------------------------- access


def _organizer() -> None:
    """Send a visitor to log in; refuse anyone but admins and organizers."""
    if not current_user.is_authenticated:
        abort(login.unauthorized())
    if current_user.role not in ("admin", "organizer") or not current_user.active:
        abort(403)


def _bank(bank_id: int) -> QuestionBank:
    """Return the bank the current user manages (login, 404 or 403)."""
    _organizer()
    bank = db.session.get(QuestionBank, bank_id)
    if bank is None:
        abort(404)
    if not banks.may_manage(current_user, bank):
        abort(403)
    return bank


# ---------------------------------------------------------------- the list


@bp.route("/banks", methods=["GET", "POST"])
def bank_list():
    """List the banks in the user's scope with their counts; create one."""
    _organizer()
    form = BankForm()
    status = 200
    if form.validate_on_submit():
        try:
            created = banks.create_bank(current_user, form.name.data, form.trade.data)
        except bank_checks.QuestionProblems as refused:
            _attach(form, refused.problems)
            status = REFUSED
        else:
            flash(_("The bank “%(name)s” was created.", name=created.name), "success")
            return redirect(url_for(".bank_page", bank_id=created.id))
    elif form.is_submitted():
        status = REFUSED
    found = banks.banks_for(current_user)
    counts = banks.counts([b.id for b in found])
    return render_template(
        "exams/bank_list.html",
        banks=found,
        counts=counts,
        form=form,
        kinds=bank_checks.KIND_WORDS,
        kind_label=banks.kind_label,
    ), status


def _attach(form: Form, problems: dict[str, str]) -> None:
    for key, message in problems.items():
        if key in form:
            form[key].errors = [*form[key].errors, message]
        else:
            form.form_errors.append(message)


@bp.get("/banks/template.xlsx")
def bank_template():
    """Download the empty question sheet."""
    _organizer()
    return download(bankfile.template(), "question-bank-template.xlsx")


# ---------------------------------------------------------------- one bank


def _content(form: QuestionForm, keep: int | None) -> bank_checks.Content:
    """Check the form's content, then keep an uploaded image (so a refused form stores none) or drop a removed one."""
    content = bank_checks.check(form.fields(), None if form.remove_image.data else keep)
    upload = form.image.data
    if upload and getattr(upload, "filename", ""):
        image = images.store_image(current_user, upload.read(images.IMAGE_BYTES + 1))
        content = dataclasses.replace(content, image_id=image.id)
    return content


@bp.route("/banks/<int:bank_id>", methods=["GET", "POST"])
def bank_page(bank_id: int):
    """Show the bank's questions, filtered by kind and area; add a question."""
    bank = _bank(bank_id)
    form = QuestionForm().fill_kinds()
    status = 200
    if form.is_submitted():
        status = REFUSED
        if form.validate():
            try:
                content = _content(form, None)
                question = banks.add_question(bank, current_user, content, form.code.data or "")
            except bank_checks.QuestionProblems as refused:
                form.attach(refused.problems)
            except ServiceError as error:
                form.image.errors = [*form.image.errors, str(error)]
            else:
                flash(_("Question %(code)s was added.", code=question.code), "success")
                return redirect(url_for(".bank_page", bank_id=bank.id, _anchor="add"))
    kind, area = request.args.get("kind", ""), request.args.get("area", "")
    kind = kind if banks.known(kind) else ""
    return render_template(
        "exams/bank_questions.html",
        bank=bank,
        questions=banks.questions(bank, kind, area),
        areas=banks.areas(bank),
        kind=kind,
        area=area,
        form=form,
        kind_label=banks.kind_label,
        kinds=bank_checks.KIND_WORDS,
    ), status


@bp.route("/banks/<int:bank_id>/questions/<int:question_id>", methods=["GET", "POST"])
def question_page(bank_id: int, question_id: int):
    """Show a question's versions; save an edit as a new version."""
    bank = _bank(bank_id)
    question = banks.question_in(bank, question_id) or abort(404)
    form = QuestionForm().fill_kinds()
    status = 200
    if form.is_submitted():
        status = REFUSED
        if form.validate():
            try:
                content = _content(form, question.current.image_id)
                version = banks.edit_question(question, current_user, content)
            except bank_checks.QuestionProblems as refused:
                form.attach(refused.problems)
            except ServiceError as error:
                form.image.errors = [*form.image.errors, str(error)]
            else:
                if version is None:
                    flash(_("Nothing changed: no new version."), "info")
                else:
                    flash(_("Version %(n)s was saved.", n=version.number), "success")
                return redirect(url_for(".question_page", bank_id=bank.id, question_id=question.id))
    else:
        form.load(question.current)
    return render_template(
        "exams/bank_question.html",
        bank=bank,
        question=question,
        form=form,
        action=ActionForm(),
        kind_label=banks.kind_label,
        versions=list(reversed(question.versions)),
    ), status


@bp.post("/banks/<int:bank_id>/questions/<int:question_id>/retire")
def question_retire(bank_id: int, question_id: int):
    """Retire a question (never drawn again) or restore it."""
    bank = _bank(bank_id)
    question = banks.question_in(bank, question_id) or abort(404)
    if not ActionForm().validate_on_submit():
        abort(400)
    retire = request.form.get("retired") == "1"
    if banks.set_retired(question, current_user, retire):
        flash(_("The question was retired.") if retire else _("The question was restored."), "success")
    return redirect(url_for(".question_page", bank_id=bank.id, question_id=question.id))


# ---------------------------------------------------------------- files


@bp.route("/banks/<int:bank_id>/import", methods=["GET", "POST"])
def bank_import(bank_id: int):
    """Upload an .xlsx sheet or GIFT text: import every question, or nothing and the report of each problem."""
    bank = _bank(bank_id)
    form = ImportForm()
    context: dict = {"bank": bank, "form": form, "labels": bankfile.labels()}
    if not form.is_submitted():
        return render_template("exams/bank_import.html", **context)
    if not form.validate_on_submit():
        return render_template("exams/bank_import.html", **context), REFUSED
    upload = form.sheet.data
    try:
        report = bankfile.import_file(bank, current_user, upload.filename or "", upload.read(bankfile.MAX_BYTES + 1))
    except bankfile.ImportRefused as refused:
        return render_template("exams/bank_import.html", **context, report=refused.report.page(), refused=True), REFUSED
    except ServiceError as error:
        return render_template("exams/bank_import.html", **context, error=str(error)), REFUSED
    return render_template("exams/bank_import.html", **context, report=report.page(), tally=report.tally())


@bp.get("/banks/<int:bank_id>/export.xlsx")
def bank_export_xlsx(bank_id: int):
    """Download the bank's questions in use as the import sheet, streamed."""
    bank = _bank(bank_id)
    response = Response(stream_with_context(bankfile.export_xlsx(bank)), mimetype=XLSX)
    response.headers["Content-Disposition"] = f'attachment; filename="bank-{bank.id}.xlsx"'
    return response


@bp.get("/banks/<int:bank_id>/export.gift")
def bank_export_gift(bank_id: int):
    """Download the bank's questions in use as GIFT text."""
    bank = _bank(bank_id)
    data = bankfile.export_gift(bank).encode()
    return send_file(
        io.BytesIO(data), mimetype="text/plain; charset=utf-8", as_attachment=True, download_name=f"bank-{bank.id}.gift"
    )


@bp.get("/banks/images/<int:image_id>")
def bank_image(image_id: int):
    """Send a stem image to whoever may see a question or paper that shows it."""
    image = db.session.get(QuestionImage, image_id)
    user = current_user if current_user.is_authenticated and current_user.active else None
    entrants = [e for e in session.get("exam_entrants", []) if isinstance(e, int)]
    if image is None or not images.image_visible(user, image.id, entrants):
        if user is None and not entrants:
            abort(login.unauthorized())
        abort(404)  # an image nobody may see here is missing, not forbidden: ids are not to be probed
    response = send_file(io.BytesIO(image.data), mimetype=image.mime, etag=image.sha256)
    response.headers["Cache-Control"] = "private, max-age=86400"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
