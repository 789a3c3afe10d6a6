"""Certificates: public verification, the worker's own, the look-up without account, the organizer's pages."""

from __future__ import annotations

import io
import json

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from comp.blueprints.certs import bp
from comp.blueprints.certs.forms import (
    BatchForm,
    DesignForm,
    IssueForm,
    LookupForm,
    ReissueForm,
    RevokeForm,
    SealForm,
)
from comp.blueprints.flashes import flash_outcome
from comp.converters import page_number
from comp.extensions import db, htmx, limiter
from comp.models import Certificate, CertificateBatch
from comp.permissions import authorize, can, competition_for
from comp.services import ServiceError
from comp.services import certs as service
from comp.services.certs import batches as printing


def _verify_limit() -> str:
    return current_app.config.get("VERIFY_LIMIT", "60 per minute")


def _no_store(response):
    response.headers["Cache-Control"] = "no-store"
    return response


def _pdf(data: bytes, name: str):
    """Send PDF bytes as a download that no cache keeps."""
    return _no_store(send_file(io.BytesIO(data), mimetype="application/pdf", as_attachment=True, download_name=name))


# ---- public verification ----


@bp.get("/verify/<number>")
@limiter.limit(_verify_limit)
def verify(number: str):
    """Say whether a certificate is valid, revoked or invalid; without a code, ask for it."""
    code = request.args.get("c")
    record = service.public_record(service.verify(number, code)) if code is not None else None
    return _no_store(current_app.make_response(render_template("certs/verify.html", number=number, record=record)))


@bp.get("/api/v1/certificates/<number>")
@limiter.limit(_verify_limit)
def api_verify(number: str):
    """Answer a verification as the SPEC's JSON."""
    record = service.public_record(service.verify(number, request.args.get("c", "")))
    # Not jsonify: it sorts keys, and the record keeps the SPEC's order.
    return _no_store(current_app.response_class(json.dumps(record, ensure_ascii=False), mimetype="application/json"))


# ---- the worker's own certificates, and the look-up without account ----


@bp.get("/my/certificates")
@login_required
def mine():
    """List the worker's own certificates."""
    authorize("worker.home")
    return render_template("certs/mine.html", certificates=service.of_worker(current_user))


@bp.get("/my/certificates/<number>.pdf")
@login_required
def my_pdf(number: str):
    """Download one of the worker's own valid certificates; any other number is not found."""
    certificate = service.get(number)
    if certificate is None or certificate.status != "valid" or not can("entrant.own", certificate.entrant):
        abort(404)
    return _pdf(service.pdf(certificate), f"{certificate.number}.pdf")


@bp.route("/certificates/lookup", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config.get("CERT_LOOKUP_LIMIT", "5 per minute"), methods=["POST"])
def lookup():
    """Fetch a certificate without an account, with its number, the name and the ID number's end."""
    form = LookupForm()
    if form.validate_on_submit():
        certificate = service.lookup(form.number.data, form.name.data, form.id_last4.data)
        if certificate is not None:
            return _pdf(service.pdf(certificate), f"{certificate.number}.pdf")
        # One message whichever detail is wrong: the form must not tell which ones are right.
        form.form_errors.append(_("No valid certificate matches these details. Check them against your certificate."))
    status = 422 if request.method == "POST" else 200
    return render_template("certs/lookup.html", form=form), status


# ---- the organizer's pages ----


def _manage_page(competition, design_form=None, seal_form=None, status=200):
    data = printing.overview(competition, page_number(request.args.get("page")))
    saved = data["design"]
    design_form = design_form or DesignForm(formdata=None, data=saved)
    return render_template(
        "certs/manage.html",
        competition=competition,
        design_form=design_form,
        seal_form=seal_form or SealForm(),
        issue_form=IssueForm(),
        revoke_form=RevokeForm(),
        reissue_form=ReissueForm(),
        batch_form=BatchForm(),
        stalled=printing.stalled,
        issuance=service.issuance(competition),
        **data,
    ), status


@bp.get("/competitions/<code>/certificates", endpoint="manage")
def manage(code: str):
    """Show the certificates page: issuing, design, seal, the list, batch downloads."""
    return _manage_page(competition_for(code))


def _certificate(competition, number: str) -> Certificate:
    """Return the competition's certificate of this number, or answer 404."""
    certificate = service.get(number)
    if certificate is None or certificate.entrant.competition_id != competition.id:
        abort(404)
    return certificate


def _back(code: str, anchor: str | None = None):
    return redirect(url_for("certs.manage", code=code, _anchor=anchor), 303)


@bp.post("/competitions/<code>/certificates/issue")
def issue(code: str):
    """Issue the certificates of a published competition."""
    competition = competition_for(code)
    form = IssueForm()
    flash_outcome(
        lambda: service.issue(competition, current_user, now=bool(form.now.data)),
        lambda new: (
            _("%(count)d certificates issued.", count=len(new))
            if new
            else _("No new certificates: every awarded entrant holds one already.")
        ),
    )
    return _back(code)


@bp.post("/competitions/<code>/certificates/reissue")
def reissue(code: str):
    """Revoke the certificates the results no longer bear out and issue new ones."""
    competition = competition_for(code)
    form = ReissueForm()
    flash_outcome(
        lambda: service.reissue(competition, current_user, form.reason.data or ""),
        lambda new: _("%(count)d certificates reissued under new numbers.", count=len(new)),
    )
    return _back(code, "list")


@bp.post("/competitions/<code>/certificates/<number>/revoke")
def revoke(code: str, number: str):
    """Revoke one certificate with a reason."""
    certificate = _certificate(competition_for(code), number)
    form = RevokeForm()

    def check_and_revoke() -> None:
        if not form.validate_on_submit():
            raise ServiceError(_("Give the reason for revoking the certificate."))
        service.revoke(certificate, form.reason.data, current_user)

    flash_outcome(check_and_revoke, _("Certificate %(number)s is revoked.", number=number))
    return _back(code, "list")


@bp.post("/competitions/<code>/certificates/design")
def design(code: str):
    """Save the certificate design."""
    competition = competition_for(code)
    form = DesignForm()
    if not form.validate_on_submit():
        return _manage_page(competition, design_form=form, status=422)
    printing.save_design(competition, form.title.data, form.body.data, form.issuer.data, form.date.data, current_user)
    flash(_("The certificate design is saved."), "success")
    return _back(code, "design")


@bp.post("/competitions/<code>/certificates/seal")
def seal(code: str):
    """Upload the seal image."""
    competition = competition_for(code)
    form = SealForm()
    if form.validate_on_submit():
        try:
            printing.save_seal(competition, form.data_bytes, current_user)
        except ServiceError as error:
            form.seal.errors.append(str(error))
        else:
            flash(_("The seal is uploaded."), "success")
            return _back(code, "design")
    return _manage_page(competition, seal_form=form, status=422)


@bp.post("/competitions/<code>/certificates/seal/remove")
def remove_seal(code: str):
    """Print without a seal from now on."""
    printing.remove_seal(competition_for(code), current_user)
    flash(_("The seal is removed."), "success")
    return _back(code, "design")


@bp.get("/competitions/<code>/certificates/seal.png")
def seal_image(code: str):
    """Show the uploaded seal."""
    data = service.seal_of(competition_for(code)) or abort(404)
    return _no_store(send_file(io.BytesIO(data), mimetype="image/png"))


@bp.get("/competitions/<code>/certificates/preview.pdf")
def preview(code: str):
    """Download a sample certificate in the current design."""
    competition = competition_for(code)
    return _pdf(printing.preview(competition), f"{competition.code}-preview.pdf")


@bp.get("/competitions/<code>/certificates/bulletin.pdf")
def bulletin(code: str):
    """Download the results bulletin (成绩公示表) for posting."""
    competition = competition_for(code)
    return _pdf(printing.bulletin_pdf(competition), f"{competition.code}-bulletin.pdf")


@bp.get("/competitions/<code>/certificates/<number>.pdf")
def certificate_pdf(code: str, number: str):
    """Download one certificate of the competition."""
    certificate = _certificate(competition_for(code), number)
    return _pdf(service.pdf(certificate), f"{certificate.number}.pdf")


# ---- batch files, built in the background ----


def _batch(competition, batch_id: int) -> CertificateBatch:
    batch = db.session.get(CertificateBatch, batch_id)
    if batch is None or batch.competition_id != competition.id:
        abort(404)
    return batch


def _batch_fragment(competition, kind: str, batch=None, error: str | None = None):
    return render_template(
        "certs/_batch.html",
        competition=competition,
        kind=kind,
        batch=batch,
        error=error,
        batch_form=BatchForm(),
        stalled=printing.stalled,
    )


@bp.post("/competitions/<code>/certificates/batches")
def start_batch(code: str):
    """Start building all certificates as one PDF, or as a ZIP of single PDFs."""
    competition = competition_for(code)
    form = BatchForm()
    kind = form.kind.data if form.validate_on_submit() and form.kind.data in ("pdf", "zip") else abort(400)
    try:
        batch = printing.start_batch(competition, kind, current_user)
    except ServiceError as error:
        if htmx:
            return _batch_fragment(competition, kind, error=str(error))
        flash(str(error), "error")
        return _back(code, "batches")
    return _batch_fragment(competition, kind, batch) if htmx else _back(code, "batches")


@bp.get("/competitions/<code>/certificates/batches/<int:batch_id>")
def batch_progress(code: str, batch_id: int):
    """Show a batch's progress: the fragment the progress bar polls."""
    competition = competition_for(code)
    batch = _batch(competition, batch_id)
    if not htmx:
        return _back(code, "batches")
    return _no_store(current_app.make_response(_batch_fragment(competition, batch.kind, batch)))


@bp.get("/competitions/<code>/certificates/batches/<int:batch_id>/download")
def batch_download(code: str, batch_id: int):
    """Send a finished batch file."""
    competition = competition_for(code)
    batch = _batch(competition, batch_id)
    path = printing.batch_file(batch) or abort(404)
    mimetype = "application/pdf" if batch.kind == "pdf" else "application/zip"
    return _no_store(
        send_file(
            path, mimetype=mimetype, as_attachment=True, download_name=f"{competition.code}-certificates.{batch.kind}"
        )
    )
