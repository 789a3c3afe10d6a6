"""Each role's home page, and /healthz."""

from __future__ import annotations

from flask import jsonify, make_response, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from comp import health
from comp.blueprints.main import bp
from comp.converters import whole_number
from comp.extensions import htmx
from comp.permissions import authorize
from comp.services import dashboard as dashboards

HOMES = {
    "admin": ("organizer.home", "main/home_organizer.html", dashboards.organizer_home),
    "organizer": ("organizer.home", "main/home_organizer.html", dashboards.organizer_home),
    "liaison": ("liaison.home", "main/home_liaison.html", dashboards.liaison_home),
    "judge": ("judge.home", "main/home_judge.html", dashboards.judge_home),
    "worker": ("worker.home", "main/home_worker.html", dashboards.worker_home),
}


@bp.get("/")
@login_required
def home():
    """Show the home page of the user's role; organizers get the city dashboard of ?year=."""
    action, template, load = HOMES[current_user.role]
    authorize(action)
    if action != "organizer.home":
        return render_template(template, **load(current_user))
    year = whole_number(request.args.get("year"))  # None when absent or not a number
    context = load(current_user, year=year)
    if htmx and htmx.target == "dashboard" and not htmx.history_restore_request:
        # The year also chooses the competitions listed below: they follow out of band.
        response = make_response(
            render_template("main/_dashboard.html", **context)
            + render_template("main/_competitions.html", oob=True, **context)
        )
    else:
        response = make_response(render_template(template, **context))
    response.vary.add("HX-Request")
    return response


@bp.get("/favicon.ico")
def favicon():
    """Answer the icon browsers ask for by this path (PDFs, JSON), with no cookie work: the app's SVG icon."""
    return redirect(url_for("static", filename="favicon.svg"), 301)


@bp.get("/healthz")
def healthz():
    """Answer 200 when every check of comp.health passes (the database; Redis and the job queue when
    configured), 503 naming the ones that failed.

    The 200 answer stays `{"status": "ok"}`; `?verbose` adds each check's result and figures, as a 503 always does.
    """
    checks = health.run()
    failed = [name for name, (passed, _details) in checks.items() if not passed]
    if not failed and "verbose" not in request.args:
        return jsonify(status="ok")
    answer = {
        "status": "unavailable" if failed else "ok",
        "checks": {name: "ok" if passed else "failed" for name, (passed, _details) in checks.items()},
    }
    details = {name: figures for name, (_passed, figures) in checks.items() if figures is not None}
    if details:
        answer["details"] = details
    if failed:
        answer["failed"] = failed
        return jsonify(answer), 503
    return jsonify(answer)
