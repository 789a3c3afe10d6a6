"""A craftsman profile (工匠档案): the page, and the organizer's edits made in place with htmx."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.answers import fragment_or_page
from comp.blueprints.people import bp
from comp.blueprints.people.forms_profile import ActionForm, GradeForm, HonourForm, MentorForm
from comp.extensions import htmx
from comp.models import Worker
from comp.permissions import authorize, can
from comp.services import ServiceError
from comp.services.people import profiles as service


def _visible(worker_id: int) -> Worker:
    """Return the worker whose profile the user may see; 404 for another worker's, as with certificates."""
    worker = service.get(worker_id) or abort(404)
    if current_user.role == "worker" and not can("worker.profile", worker):
        abort(404)  # a worker is not told whether someone else's record exists
    authorize("worker.profile", worker)
    return worker


def _managed(worker_id: int) -> Worker:
    """Return the worker the user may edit, else 404 (unknown) or 403."""
    worker = service.get(worker_id) or abort(404)
    authorize("worker.manage", worker)
    return worker


def _context(
    worker: Worker, section: str | None = None, error: str | None = None, notice: str | None = None, **forms
) -> dict:
    """Return the page's data and its forms (fresh ones unless a refused form is given back)."""
    data = service.profile(worker, current_user)
    return {
        **data,
        "manage": can("worker.manage", worker),
        "titles": service.HONOUR_TITLES,
        "statuses": service.HONOUR_STATUSES,
        "first_year": service.FIRST_YEAR,
        "last_year": service.last_year(),
        "section": section,
        "section_error": error,
        "section_notice": notice,
        "honour_form": forms.get("honour_form")
        or HonourForm(formdata=None, data={"year": service.last_year() - 1, "status": "awarded"}),
        "mentor_form": forms.get("mentor_form") or MentorForm(formdata=None),
        "grade_form": forms.get("grade_form") or GradeForm(formdata=None, data={"grade": worker.skill_grade or 5}),
        "candidates": forms.get("candidates", []),
    }


@bp.get("/<int:worker_id>")
@login_required
def profile(worker_id: int):
    """Show a craftsman's record: details, honours, mentor and apprentices, results, units."""
    return render_template("people/profile.html", **_context(_visible(worker_id)))


@bp.get("/me")
@login_required
def mine():
    """Send a worker to their own profile; no one else has one."""
    if current_user.role != "worker" or current_user.worker_id is None:
        abort(404)
    return redirect(url_for("people.profile", worker_id=current_user.worker_id))


def _field_errors(form) -> str:
    """Return a form's errors as one message naming each field."""
    return " ".join(
        f"{form[name].label.text}: {message}" for name, messages in form.errors.items() for message in messages
    )


def _answer(worker: Worker, section: str, done: str | None = None, error: str | None = None, **forms):
    """Answer htmx with the section's fragment; any other request goes back to the profile with a message."""
    if htmx:
        return render_template(
            f"people/_profile_{section}.html", **_context(worker, section=section, error=error, notice=done, **forms)
        )
    form = next(iter(forms.values()), None)
    if error or (form is not None and form.errors):
        flash(error or _field_errors(form), "error")
    elif done:
        flash(done, "success")
    return redirect(url_for("people.profile", worker_id=worker.id, _anchor=section), 303)


def _refused(form, error: ServiceError) -> str | None:
    """Put a service's refusal under its field; return it when it belongs to no field of the form."""
    field = getattr(error, "field", None)
    if field and field in form:
        form[field].errors = [*form[field].errors, str(error)]
        return None
    return str(error)


# ---- honours ----


@bp.post("/<int:worker_id>/honours")
@login_required
def add_honour(worker_id: int):
    """Add an honour to the worker's record."""
    worker = _managed(worker_id)
    form = HonourForm()
    if not form.validate_on_submit():
        return _answer(worker, "honours", honour_form=form)
    try:
        honour = service.add_honour(
            worker, form.title.data, form.year.data, form.issuer.data, form.status.data, current_user
        )
    except ServiceError as error:
        return _answer(worker, "honours", error=_refused(form, error), honour_form=form)
    return _answer(worker, "honours", _("“%(title)s” (%(year)d) is added.", title=honour.title, year=honour.year))


def _honour_action(worker_id: int, honour_id: int, verb, done: str):
    worker = _managed(worker_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        verb(worker, honour_id, current_user)
    except ServiceError as error:
        return _answer(worker, "honours", error=str(error))
    return _answer(worker, "honours", done)


@bp.post("/<int:worker_id>/honours/<int:honour_id>/remove")
@login_required
def remove_honour(worker_id: int, honour_id: int):
    """Delete an honour from the worker's record."""
    return _honour_action(worker_id, honour_id, service.remove_honour, _("The honour is removed."))


@bp.post("/<int:worker_id>/honours/<int:honour_id>/confirm")
@login_required
def confirm_honour(worker_id: int, honour_id: int):
    """Record a recommended honour as awarded."""
    return _honour_action(worker_id, honour_id, service.confirm_honour, _("The honour is recorded as awarded."))


# ---- mentor ----


@bp.post("/<int:worker_id>/mentor")
@login_required
def set_mentor(worker_id: int):
    """Set the worker's mentor, found by profile number or by name; several matches are offered to choose from."""
    worker = _managed(worker_id)
    form = MentorForm()
    if not form.validate_on_submit():
        return _answer(worker, "mentor", mentor_form=form)
    try:
        found = service.find_mentors(form.mentor.data, current_user)
        if len(found) > 1:
            return _choose(worker, form, found)
        service.set_mentor(worker, found[0], current_user)
    except ServiceError as error:
        return _answer(worker, "mentor", error=_refused(form, error), mentor_form=form)
    return _answer(worker, "mentor", _("%(mentor)s is now %(name)s's mentor.", mentor=found[0].name, name=worker.name))


def _choose(worker: Worker, form: MentorForm, found: list[Worker]):
    """Show the workers the typed name matches, each with a button choosing it by profile number."""
    form.mentor.errors = [*form.mentor.errors, _("Several workers match: choose one.")]
    context = _context(worker, section="mentor", mentor_form=form, candidates=found)
    return fragment_or_page("people/_profile_mentor.html", "people/profile.html", **context)


@bp.post("/<int:worker_id>/mentor/clear")
@login_required
def clear_mentor(worker_id: int):
    """Remove the worker's mentor."""
    worker = _managed(worker_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        service.set_mentor(worker, None, current_user)
    except ServiceError as error:
        return _answer(worker, "mentor", error=str(error))
    return _answer(worker, "mentor", _("The mentor is cleared."))


# ---- skill grade ----


@bp.post("/<int:worker_id>/grade")
@login_required
def set_grade(worker_id: int):
    """Change the worker's skill grade, with a reason."""
    worker = _managed(worker_id)
    form = GradeForm()
    if not form.validate_on_submit():
        return _answer(worker, "grade", grade_form=form)
    try:
        service.set_grade(worker, form.grade.data, form.reason.data, current_user)
    except ServiceError as error:
        return _answer(worker, "grade", error=_refused(form, error), grade_form=form)
    return _answer(worker, "grade", _("The skill grade is changed."))
