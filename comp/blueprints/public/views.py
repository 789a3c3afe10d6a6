"""Public pages: the published results list, live standings, official results, objections."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from comp.blueprints.public import bp
from comp.blueprints.public.forms import ObjectionForm
from comp.converters import page_number
from comp.extensions import db, htmx, limiter
from comp.labels import LEVELS
from comp.models import Competition
from comp.models.competition import PUBLIC_STATES
from comp.services import ServiceError
from comp.services.judging import live
from comp.services.results import get_competition, objections, public_list


def _no_store(response):
    """Keep proxies and browsers from answering a poll with a stale board."""
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/", endpoint="index")
def index():
    """List the published competitions and ratings, newest first, filtered, 30 a page."""
    args = request.args
    filters = public_list.Filters.parse(args.get("q"), args.get("year"), args.get("trade"), args.get("level"))
    listing = public_list.search(filters, page_number(args.get("page")))
    return render_template("public/index.html", filters=filters, listing=listing, levels=LEVELS)


@bp.get("/<code>/live", endpoint="live")
def live_board(code: str):
    """Show the live standings; a poll holding the current version gets 204 No Content."""
    state = live.poll(code)
    if state is None or state.status not in live.LIVE_STATES:
        abort(404)
    shown = request.args.get("v")
    if shown == state.stamp:
        return _no_store(current_app.response_class(status=204))
    competition = db.session.get(Competition, state.id)
    assert competition is not None  # poll() has just read its row
    board = live.board(competition, state.stamp)
    if htmx and shown == board.version:  # the board is being rebuilt: the screen keeps what it shows
        return _no_store(current_app.response_class(status=204))
    if htmx:
        template = "public/_board.html"
    else:
        template = "public/screen.html" if request.args.get("screen") == "1" else "public/live.html"
    return _no_store(current_app.make_response(render_template(template, competition=competition, board=board)))


def _published(code: str) -> Competition:
    """Return the competition whose results are public, else 404: unpublished ones are not revealed."""
    competition = get_competition(code)
    if competition is None or competition.status not in PUBLIC_STATES:
        abort(404)
    return competition


def _results_page(competition: Competition, form: ObjectionForm):
    return render_template(
        "public/results.html",
        competition=competition,
        official=live.official(competition),
        notice=live.notice(competition),
        accepting=objections.accepting(competition),
        form=form,
    )


@bp.get("/<code>/results")
def results(code: str):
    """Show the official results with the notice period and, during it, the objection form."""
    competition = _published(code)
    return _results_page(competition, ObjectionForm())


@bp.post("/<code>/objections")
@limiter.limit(lambda: current_app.config.get("OBJECTION_LIMIT", "5 per hour"))
def objection(code: str):
    """Lodge an objection during the notice period."""
    competition = _published(code)
    form = ObjectionForm()
    if form.validate_on_submit():
        try:
            lodged, token = objections.lodge_with_token(competition, form.name.data, form.contact.data, form.text.data)
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            flash(
                _(
                    "Your objection has been received under reference %(ref)s. The chief judge will rule on it.",
                    ref=lodged.ref,
                ),
                "success",
            )
            return redirect(url_for("public.objection_status", code=code, token=token), 303)
    return _results_page(competition, form), 422


@bp.get("/<code>/objections/<token>")
@limiter.limit(lambda: current_app.config.get("OBJECTION_STATUS_LIMIT", "30 per minute"))
def objection_status(code: str, token: str):
    """Show the person who lodged an objection where it stands; only the token of their address opens it."""
    # Not _published(): results withdrawn after an upheld objection must still show the ruling.
    competition = get_competition(code)
    lodged = objections.by_token(competition, token) if competition is not None else None
    if competition is None or lodged is None:
        abort(404)
    response = current_app.make_response(
        render_template(
            "public/objection_status.html",
            competition=competition,
            objection=lodged,
            progress=objections.progress(competition, lodged),
            notice=live.notice(competition),
            address=url_for("public.objection_status", code=code, token=token, _external=True),
        )
    )
    # The address is the key: no cache keeps the page, no other site learns the address, no search engine lists it.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response
