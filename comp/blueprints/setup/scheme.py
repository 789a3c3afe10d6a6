"""The scheme and rules editor: rows saved in place with htmx, and the live preview.

Every row endpoint answers htmx with its fragment (the row, the stage or the whole
scheme) and the `scheme-changed` event when something was saved; a plain form post gets
the whole editor page instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from comp import scoring
from comp.blueprints.setup import bp
from comp.blueprints.setup.forms import CriterionForm, RulesForm, StageForm, choices
from comp.blueprints.setup.views import attach, managed
from comp.converters import whole_number
from comp.extensions import db, htmx
from comp.models import Competition, Criterion, Stage
from comp.services import ServiceError
from comp.services import setup as setup_service
from comp.services.results import scheme_of
from comp.services.setup import lifecycle
from comp.services.setup import scheme as setup_scheme

DEFAULT_ENTRANTS = 50
KEY_LENGTH = 32


def generated_key(name: str, taken: Iterable[str], prefix: str) -> str:
    """Return a key for a row left without one: the ASCII words of its name, else `prefix` and a number.

    A key is what exchange files and tie-break rules name a stage or criterion by, so it is plain ASCII;
    a Chinese name gives `s1`, `c2` and so on (there is no transliteration without a library). The key
    returned is not in `taken`.
    """
    used = {key.lower() for key in taken}
    slug = "-".join(re.findall(r"[a-z0-9]+", (name or "").lower()))[:KEY_LENGTH].strip("-")
    if slug and re.search(r"[a-z]", slug) and slug not in used:
        return slug
    stem, number = (slug[: KEY_LENGTH - 3], 2) if slug and re.search(r"[a-z]", slug) else (prefix, 1)
    joiner = "-" if stem != prefix else ""
    while f"{stem}{joiner}{number}" in used:
        number += 1
    return f"{stem}{joiner}{number}"


def _scheme(competition: Competition, overrides: dict | None = None) -> dict:
    """Return the editor's context: stages, one form per row, and whether it may change."""
    forms: dict = {"new-stage": StageForm(formdata=None, prefix="new-stage")}
    for stage in competition.stages:
        forms[f"stage-{stage.id}"] = StageForm.of(stage, f"stage-{stage.id}")
        forms[f"new-criterion-{stage.id}"] = CriterionForm(formdata=None, prefix=f"new-criterion-{stage.id}")
        for criterion in stage.criteria:
            forms[f"criterion-{criterion.id}"] = CriterionForm.of(criterion, f"criterion-{criterion.id}")
    forms.update(overrides or {})
    return {"competition": competition, "forms": forms, "editable": competition.status in lifecycle.SCHEME_EDITABLE}


def _tiebreak_choices(competition: Competition, chosen: list[str]) -> list[tuple[str, str]]:
    # A rating has no completion time to compare.
    choices = [] if competition.kind == "rating" else [("time", _("Completion time, shorter first"))]
    for stage in competition.stages:
        choices.append((str(scoring.TieBreak("stage", stage.key)), _("Stage: %(name)s", name=stage.name)))
        if stage.best:
            label = _("Attempts of %(name)s, the next best first", name=stage.name)
            choices.append((str(scoring.TieBreak("attempts", stage.key)), label))
        choices += [
            (str(scoring.TieBreak("criterion", f"{stage.key}.{c.key}")), f"{stage.name} · {c.name}")
            for c in stage.criteria
        ]
    known = {value for value, _label in choices}
    # A chain naming something the scheme does not have is shown, in words, so it can be removed.
    missing = [value for value in chosen if value and value not in known]
    return choices + [(value, _skipped_label(value)) for value in missing]


def _skipped_label(value: str) -> str:
    """Name, in words, a chain entry the scheme cannot apply (the engine skips it)."""
    if value == "time":
        return _("Completion time: not recorded in a rating, so skipped")
    kind, _colon, key = value.partition(":")
    if kind == "stage":
        return _("The stage “%(key)s”: not in this scheme, so skipped", key=key)
    if kind == "attempts":
        return _("The attempts of “%(key)s”: no such stage of attempts, so skipped", key=key)
    return _("The criterion “%(key)s”: not in this scheme, so skipped", key=key)


def _rules_form(competition: Competition, form: RulesForm | None = None) -> RulesForm:
    if form is None:
        try:
            rules = scoring.parse_rules(competition.rules or {}, scheme_of(competition), competition.kind)
        except scoring.RuleError:
            rules = scoring.Rules.default(competition.kind)
        form = RulesForm.of(rules)
    options = choices(_tiebreak_choices(competition, [entry.data for entry in form.tiebreak]))
    for entry in form.tiebreak:
        entry.choices = options
    return form


def _entrants() -> int:
    number = whole_number(request.values.get("n"))
    return DEFAULT_ENTRANTS if number is None else min(100_000, number)


def _page(competition: Competition, overrides: dict | None = None, rules: RulesForm | None = None) -> str:
    return render_template(
        "setup/edit.html",
        **_scheme(competition, overrides),
        rules_form=_rules_form(competition, rules),
        preview=setup_scheme.preview(competition, _entrants()),
        n=_entrants(),
    )


def _answer(competition: Competition, fragment: str, saved: bool, key: str, form=None, **context):
    """Answer htmx with the fragment (and the scheme-changed event once saved), a plain post with the page."""
    overrides = None if saved or form is None else {key: form}
    if not htmx:
        if saved:
            return redirect(url_for(".edit", code=competition.code) + f"#{key}")
        return _page(competition, overrides), 422
    response = make_response(render_template(fragment, **_scheme(competition, overrides), **context))
    if saved:
        response.headers["HX-Trigger"] = "scheme-changed"
    return response


def _attempt(form, action) -> bool:
    """Validate the row and run the service verb; a refusal lands next to its field."""
    if form is not None and not form.validate():
        return False
    try:
        action()
    except setup_service.SetupError as error:
        attach(form, error.problems)
        return False
    except ServiceError as error:
        form.form_errors.append(str(error))
        return False
    return True


def _stage(competition: Competition, stage_id: int) -> Stage:
    stage = db.session.get(Stage, stage_id)
    if stage is None or stage.competition_id != competition.id:
        abort(404)
    return stage


def _criterion(competition: Competition, criterion_id: int) -> Criterion:
    criterion = db.session.get(Criterion, criterion_id)
    if criterion is None or criterion.stage.competition_id != competition.id:
        abort(404)
    return criterion


@bp.get("/<code>/edit")
def edit(code: str):
    """Show the scheme editor, the rules form and the preview."""
    return _page(managed(code))


def _stage_key(competition: Competition, stage: Stage | None = None) -> Callable[[str], str]:
    """Return what an empty stage key becomes: the stage's own key, or one made from the name."""
    if stage is not None:
        return lambda _name: stage.key
    return lambda name: generated_key(name, (s.key for s in competition.stages), "s")


def _criterion_key(competition: Competition, criterion: Criterion | None = None) -> Callable[[str], str]:
    """Return what an empty criterion key becomes: its own key, or one unique within the competition."""
    if criterion is not None:
        return lambda _name: criterion.key
    taken = [c.key for s in competition.stages for c in s.criteria]
    return lambda name: generated_key(name, taken, "c")


def _save_row(competition: Competition, fragment: str, key: str, form_class, verb, target, keys, **context):
    """Check a row's form (fields prefixed `key`), run `verb(target, values, actor)`, answer with the fragment.

    A key left empty is filled by `keys(name)`: kept for a saved row, generated for a new one.
    """
    form = form_class(prefix=key)

    def run():
        values = form.values()
        values["key"] = (values.get("key") or "").strip() or keys((values.get("name") or "").strip())
        verb(target, values, current_user)

    saved = _attempt(form, run)
    return _answer(competition, fragment, saved, key, form, **context)


@bp.post("/<code>/stages")
def add_stage(code: str):
    """Add a stage; answer with the whole scheme."""
    competition = managed(code)
    return _save_row(
        competition,
        "setup/_scheme.html",
        "new-stage",
        StageForm,
        setup_scheme.add_stage,
        competition,
        _stage_key(competition),
    )


@bp.post("/<code>/stages/<int:stage_id>")
def save_stage(code: str, stage_id: int):
    """Save a stage row in place."""
    competition = managed(code)
    stage = _stage(competition, stage_id)
    key = f"stage-{stage.id}"
    return _save_row(
        competition,
        "setup/_stage_row.html",
        key,
        StageForm,
        setup_scheme.update_stage,
        stage,
        _stage_key(competition, stage),
        stage=stage,
    )


@bp.post("/<code>/stages/<int:stage_id>/criteria")
def add_criterion(code: str, stage_id: int):
    """Add a criterion to a stage; answer with the stage."""
    competition = managed(code)
    stage = _stage(competition, stage_id)
    key = f"new-criterion-{stage.id}"
    return _save_row(
        competition,
        "setup/_stage.html",
        key,
        CriterionForm,
        setup_scheme.add_criterion,
        stage,
        _criterion_key(competition),
        stage=stage,
    )


@bp.post("/<code>/criteria/<int:criterion_id>")
def save_criterion(code: str, criterion_id: int):
    """Save a criterion row in place."""
    competition = managed(code)
    criterion = _criterion(competition, criterion_id)
    key = f"criterion-{criterion.id}"
    return _save_row(
        competition,
        "setup/_criterion_row.html",
        key,
        CriterionForm,
        setup_scheme.update_criterion,
        criterion,
        _criterion_key(competition, criterion),
        criterion=criterion,
        stage=criterion.stage,
    )


def _offset() -> int:
    return -1 if request.form.get("offset") == "-1" else 1


def _structural(competition: Competition, action, fragment: str, key: str, **context):
    """Run a remove or a move; a refusal is shown above the fragment (or flashed)."""
    try:
        action()
    except ServiceError as error:
        if not htmx:
            flash(str(error), "error")
            return redirect(url_for(".edit", code=competition.code))
        return render_template(fragment, **_scheme(competition), notice=(key, str(error)), **context)
    return _answer(competition, fragment, True, key, **context)


def _in_scheme(competition: Competition, stage_id: int, action):
    """Remove or move a stage; answer with the whole scheme."""
    return _structural(competition, action, "setup/_scheme.html", f"stage-{stage_id}")


def _in_stage(competition: Competition, stage: Stage, action):
    """Remove or move a criterion; answer with its stage."""
    return _structural(competition, action, "setup/_stage.html", f"stage-{stage.id}", stage=stage)


@bp.post("/<code>/stages/<int:stage_id>/remove")
def remove_stage(code: str, stage_id: int):
    """Remove a stage with its criteria."""
    competition = managed(code)
    stage = _stage(competition, stage_id)
    return _in_scheme(competition, stage_id, lambda: setup_scheme.remove_stage(stage, current_user))


@bp.post("/<code>/stages/<int:stage_id>/move")
def move_stage(code: str, stage_id: int):
    """Move a stage up or down."""
    competition = managed(code)
    stage = _stage(competition, stage_id)
    return _in_scheme(competition, stage_id, lambda: setup_scheme.move_stage(stage, _offset(), current_user))


@bp.post("/<code>/criteria/<int:criterion_id>/remove")
def remove_criterion(code: str, criterion_id: int):
    """Remove a criterion."""
    competition = managed(code)
    criterion = _criterion(competition, criterion_id)
    return _in_stage(competition, criterion.stage, lambda: setup_scheme.remove_criterion(criterion, current_user))


@bp.post("/<code>/criteria/<int:criterion_id>/move")
def move_criterion(code: str, criterion_id: int):
    """Move a criterion up or down its stage."""
    competition = managed(code)
    criterion = _criterion(competition, criterion_id)
    return _in_stage(
        competition, criterion.stage, lambda: setup_scheme.move_criterion(criterion, _offset(), current_user)
    )


def _edit_lists(form: RulesForm, action: str) -> None:
    """Add or remove an award tier or a tie-break entry in the unsaved form."""
    name, _sep, index = action.rpartition("-")
    listed = form.tiers if action.startswith(("add-tier", "remove-tier")) else form.tiebreak
    if action in ("add-tier", "add-tiebreak"):
        listed.append_entry()
    elif name in ("remove-tier", "remove-tiebreak"):
        at = whole_number(index, high=len(listed.entries) - 1)
        if at is not None:
            listed.entries.pop(at)


@bp.post("/<code>/rules")
def rules(code: str):
    """Save the rules once the scoring engine accepts them, or add/remove a tier or tie-break entry."""
    competition = managed(code)
    form = _rules_form(competition, RulesForm(kind=competition.kind))
    action = request.form.get("action", "save")
    keep = {k: v for k, v in (competition.rules or {}).items() if k == "bias_threshold"}
    saved = action == "save" and _attempt(
        form, lambda: setup_service.update_rules(competition, form.rules(keep), current_user)
    )
    if action != "save":
        _edit_lists(form, action)
        form = _rules_form(competition, form)
    elif saved:
        form = _rules_form(competition)
    if not htmx:
        if saved:
            flash(_("The rules were saved."), "success")
            return redirect(url_for(".edit", code=competition.code) + "#rules")
        return _page(competition, rules=form), 200 if action != "save" else 422
    response = make_response(
        render_template(
            "setup/_rules.html",
            competition=competition,
            rules_form=form,
            saved=saved,
            editable=competition.status in lifecycle.SCHEME_EDITABLE,
        )
    )
    if saved:
        response.headers["HX-Trigger"] = "scheme-changed"
    return response


@bp.get("/<code>/preview")
def preview(code: str):
    """Show the weight shares and, for N entrants, the awards each tier gives."""
    competition = managed(code)
    if not htmx:
        return _page(competition)
    return render_template(
        "setup/_preview.html", competition=competition, preview=setup_scheme.preview(competition, _entrants())
    )
