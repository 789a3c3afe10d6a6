"""Opening an activation or reset link, and a worker's own sign-up."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from comp.blueprints.auth import bp
from comp.blueprints.auth.forms import SetPasswordForm, SignupForm
from comp.blueprints.auth.views import begin, client, end
from comp.extensions import limiter
from comp.services import ServiceError, registration
from comp.services.accounts import claims, links


@bp.route("/activate/<token>", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["ACTIVATE_LIMIT"], methods=["POST"])
def activate(token: str):
    """Show who the link is for and let them set their password; it works once, for 72 hours."""
    try:
        link = links.resolve(token)
    except ServiceError as error:
        return render_template("auth/activate.html", problem=str(error)), 404
    form = SetPasswordForm()
    if form.validate_on_submit():
        try:
            user = links.use(token, form.password.data, *client())
        except ServiceError as error:
            form.password.errors.append(str(error))
        else:
            if current_user.is_authenticated:
                end()  # someone else was logged in on this device
            begin(user, user.session_token)
            flash(_("Your password is set. Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    response = render_template("auth/activate.html", link=link, form=form), status
    return response


@bp.route("/signup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGNUP_LIMIT"], methods=["POST"])
def signup():
    """Let a worker open their own account; a record already on file waits for the union's confirmation."""
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = SignupForm(enterprises=registration.enterprises())
    if form.validate_on_submit():
        person = claims.Person(
            form.name.data,
            form.id_number.data,
            form.phone.data,
            form.employer.data or None,
            form.trade.data,
            form.grade.data or None,
        )
        try:
            user, claim = claims.sign_up(
                person, (form.username.data or "").strip() or form.phone.data.strip(), form.password.data, *client()
            )
        except ServiceError as error:
            form.form_errors.append(str(error))
        else:
            begin(user, user.session_token)
            if claim is not None:
                flash(
                    _(
                        "Your account is ready. A worker record with your ID number is already on file: an "
                        "organizer of your union will confirm that it is yours."
                    ),
                    "info",
                )
            else:
                flash(_("Your account is ready. Welcome, %(name)s.", name=user.display_name), "success")
            return redirect(url_for("main.home"))
    status = 422 if request.method == "POST" else 200
    return render_template("auth/signup.html", form=form), status
