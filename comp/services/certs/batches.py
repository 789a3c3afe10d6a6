"""What certificates look like and what is printed from them: the design, the seal, batch
files of all of a competition's certificates, and the results bulletin (成绩公示表).

A batch of thousands of certificates takes minutes (a city-wide preliminary awards some
6,000), longer than a request should last, so it is built by a background thread into a
file under the instance folder, one certificate at a time, its progress in the database
for the organizer's progress bar; any app process can then send the finished file.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta
from pathlib import Path
from typing import cast

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import Flask, current_app, has_request_context, request
from flask_babel import gettext as _
from werkzeug.local import LocalProxy

from comp.certificates import Sheets, layout
from comp.certificates import seal as seal_image
from comp.certificates.archive import Archive
from comp.extensions import db
from comp.models import Certificate, CertificateBatch, CertificateSeal, Competition, Entrant, OrgUnit, User
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services import certs as certificate_service
from comp.services import results as results_service
from comp.services.common import audit
from comp.services.hall import printing
from comp.services.setup import lifecycle

CHUNK = 50  # certificates loaded, drawn and counted as done at a time
STALLED_AFTER = timedelta(minutes=10)  # a batch whose process died stops moving
_threads: dict[int, threading.Thread] = {}


def design(competition: Competition) -> dict:
    """Return the certificate design with its defaults: title, body template, issuer, date."""
    saved = competition.certificate or {}
    return {
        "title": saved.get("title") or layout.DEFAULT_TITLE,
        "body": saved.get("body") or layout.DEFAULT_BODY[layout_kind(competition)],
        "issuer": saved.get("issuer") or competition.organizer,
        "date": date.fromisoformat(saved["date"]) if saved.get("date") else None,
    }


def save_design(
    competition: Competition, title: str, body: str, issuer: str, day: date | None, actor: User | None = None
) -> None:
    """Store the certificate design; it applies to every certificate printed from now on."""
    value = {
        "title": title.strip(),
        "body": body.strip().replace("\r\n", "\n"),
        "issuer": issuer.strip(),
        "date": day.isoformat() if day else None,
    }
    with transaction():
        competition.certificate = value
        audit.record("certificates.design", actor, competition, competition, **value)


SEAL_MESSAGES = {
    "type": lambda: _("The seal must be a PNG image."),
    "size": lambda: _("The seal image may be at most %(kb)d KB.", kb=seal_image.MAX_BYTES // 1024),
    "dimensions": lambda: _(
        "The seal image must be %(low)d to %(high)d pixels a side and roughly square.",
        low=seal_image.MIN_SIDE,
        high=seal_image.MAX_SIDE,
    ),
    "damaged": lambda: _("The seal image is damaged and cannot be read."),
}


def save_seal(competition: Competition, data: bytes, actor: User | None = None) -> CertificateSeal:
    """Check and store the competition's seal, replacing any earlier one."""
    try:
        png, width, height = seal_image.normalize(data)
    except seal_image.SealError as error:
        raise ServiceError(SEAL_MESSAGES[error.reason]()) from None
    with transaction():
        seal = db.session.scalar(sa.select(CertificateSeal).where(CertificateSeal.competition_id == competition.id))
        if seal is None:
            seal = CertificateSeal(competition_id=competition.id)
            db.session.add(seal)
        seal.png, seal.width, seal.height = png, width, height
        seal.uploaded_at, seal.uploaded_by_id = utcnow(), getattr(actor, "id", None)
        audit.record("certificates.seal", actor, competition, competition, width=width, height=height, bytes=len(data))
    return seal


def remove_seal(competition: Competition, actor: User | None = None) -> None:
    """Print the certificates without a seal from now on."""
    with transaction():
        db.session.execute(sa.delete(CertificateSeal).where(CertificateSeal.competition_id == competition.id))
        audit.record("certificates.seal_removed", actor, competition, competition)


def bulletin_table(competition: Competition) -> printing.Table:
    """Return the results bulletin: rank, name, employer, total and award; no ID numbers or phones."""
    employers = dict(
        db.session.execute(
            sa.select(Entrant.ref, OrgUnit.name)
            .outerjoin(OrgUnit, OrgUnit.id == Entrant.employer_id)
            .where(Entrant.competition_id == competition.id)
        ).all()
    )
    rows = [
        (row["rank"] or "—", row["name"], employers.get(row["ref"]) or "", row["total"] or "—", row["award"] or "")
        for row in results_service.document(competition)["results"]
    ]
    return printing.Table(
        _("Results bulletin"),
        ((_("Rank"), 16), (_("Name"), 34), (_("Employer"), 70), (_("Total"), 24), (_("Award"), 36)),
        rows,
        notes=bulletin_notes(competition),
    )


def bulletin_notes(competition: Competition) -> tuple[str, ...]:
    """Return what the posted bulletin says under the table: the notice period and how to lodge an objection."""
    ends = lifecycle.notice_ends(competition)
    if ends is None or competition.published_at is None or lifecycle.notice_days(competition) <= 0:
        return ()
    start = certificate_service.local_time(competition.published_at).strftime("%Y-%m-%d %H:%M")
    end = certificate_service.local_time(ends).strftime("%Y-%m-%d %H:%M")
    # Built from the URL map, so a bulletin made outside a request (a script, a batch) has the address too.
    path = current_app.url_map.bind("").build("public.results", {"code": competition.code})
    base = current_app.config.get("PUBLIC_BASE_URL") or (request.host_url if has_request_context() else "")
    address = f"{base.rstrip('/')}{path}"
    return (
        _("Notice period: from %(start)s to %(end)s.", start=start, end=end),
        _(
            "Anyone who finds an error in these results may lodge an objection before the notice period ends, "
            "on the results page %(address)s (name, phone or e-mail, and what is wrong), "
            "or in writing to the organizer, %(organizer)s. The chief judge rules on every objection.",
            address=address,
            organizer=competition.organizer,
        ),
    )


def bulletin_pdf(competition: Competition) -> bytes:
    """Return the results bulletin as a PDF for posting."""
    return printing.pdf(competition, bulletin_table(competition))


def stalled(batch: CertificateBatch) -> bool:
    """Tell whether a running batch has stopped moving: the process building it died."""
    return batch.status == "running" and utcnow() - batch.updated_at > STALLED_AFTER


def latest_batches(competition: Competition) -> dict[str, CertificateBatch]:
    """Return the newest batch of each kind."""
    latest: dict[str, CertificateBatch] = {}
    # populate_existing: the background thread moves batches on behind this session's back.
    for batch in db.session.scalars(
        sa.select(CertificateBatch)
        .where(CertificateBatch.competition_id == competition.id)
        .order_by(CertificateBatch.id.desc())
        .execution_options(populate_existing=True)
    ):
        latest.setdefault(batch.kind, batch)
    return latest


def folder() -> Path:
    """Return the folder batch files are written to, created on demand."""
    path = Path(current_app.config.get("CERTIFICATE_BATCH_FOLDER") or Path(current_app.instance_path) / "batches")
    path.mkdir(parents=True, exist_ok=True)
    return path


def batch_file(batch: CertificateBatch) -> Path | None:
    """Return a finished batch's file, None when it is not (or no longer) there."""
    path = folder() / batch.filename if batch.status == "done" and batch.filename else None
    return path if path is not None and path.is_file() else None


def start_batch(competition: Competition, kind: str, actor: User | None = None) -> CertificateBatch:
    """Start building a batch file of every valid certificate, unless one is being built already."""
    if kind not in ("pdf", "zip"):
        raise ServiceError(_("Unknown batch kind."))
    running = latest_batches(competition).get(kind)
    if running is not None and running.status == "running" and not stalled(running):
        return running
    count = len(certificate_service.certificates(competition, "valid"))
    if not count:
        raise ServiceError(_("There are no valid certificates to print yet."))
    with transaction():
        batch = CertificateBatch(
            competition_id=competition.id,
            kind=kind,
            status="running",
            total=count,
            done=0,
            requested_by_id=getattr(actor, "id", None),
        )
        db.session.add(batch)
        db.session.flush()
        audit.record("certificates.batch", actor, competition, batch, kind=kind, count=count)
    thread = threading.Thread(
        target=_run,
        args=(cast("LocalProxy[Flask]", current_app)._get_current_object(), batch.id),
        name=f"certificate-batch-{batch.id}",
        daemon=True,
    )
    _threads[batch.id] = thread
    thread.start()
    return batch


def wait(batch_id: int, timeout: float = 120) -> None:
    """Wait for a batch started by this process to finish."""
    thread = _threads.get(batch_id)
    if thread is not None:
        thread.join(timeout)


def _run(app: Flask, batch_id: int) -> None:
    """Build the batch in its own app context; a failure is recorded on the batch, not lost."""
    with app.app_context():
        try:
            batch = db.session.get(CertificateBatch, batch_id)
            assert batch is not None  # start_batch() wrote it before starting this thread
            _build(batch)
        except Exception as error:  # the thread has no caller to raise to: record and log
            db.session.rollback()
            current_app.logger.exception("certificate batch %s failed", batch_id)
            batch = db.session.get(CertificateBatch, batch_id)
            if batch is not None:
                batch.status, batch.error, batch.finished_at = "failed", str(error)[:300], utcnow()
                db.session.commit()
        finally:
            db.session.remove()
            _threads.pop(batch_id, None)


def _build(batch: CertificateBatch) -> None:
    """Draw the batch's certificates into a partial file, counting progress, then put it in place."""
    competition = db.session.get(Competition, batch.competition_id)
    assert competition is not None  # the batch's foreign key
    ids = list(
        db.session.scalars(
            sa.select(Certificate.id)
            .join(Entrant)
            .where(Entrant.competition_id == competition.id, Certificate.status == "valid")
            .order_by(Certificate.id)
        )
    )
    name = f"{competition.code}-certificates-{batch.id}.{batch.kind}"
    partial = folder() / f"{name}.part"
    batch.total, batch.done = len(ids), 0

    def progress(count: int) -> None:
        batch.done, batch.updated_at = batch.done + count, utcnow()
        db.session.commit()

    writer = Sheets(str(partial), competition.name) if batch.kind == "pdf" else Archive(str(partial))
    draw_all(competition, ids, writer, progress)
    writer.close()
    partial.replace(folder() / name)
    batch.filename, batch.status, batch.finished_at, batch.updated_at = name, "done", utcnow(), utcnow()
    db.session.commit()
    _remove_older(batch)


def draw_all(competition: Competition, ids: list[int], writer, progress=None) -> None:
    """Add the certificates with these ids to a writer (Sheets or Archive), a chunk at a time."""
    seal = certificate_service.seal_of(competition)
    for start in range(0, len(ids), CHUNK):
        chunk = db.session.scalars(
            sa.select(Certificate)
            .where(Certificate.id.in_(ids[start : start + CHUNK]))
            .order_by(Certificate.id)
            .options(so.joinedload(Certificate.entrant).joinedload(Entrant.employer))
        ).all()
        for certificate in chunk:
            writer.add(certificate_service.page(certificate, seal))
        if progress is not None:
            progress(len(chunk))


def _remove_older(batch: CertificateBatch) -> None:
    """Delete the files of earlier batches of the same kind: the newest one supersedes them."""
    for old in db.session.scalars(
        sa.select(CertificateBatch).where(
            CertificateBatch.competition_id == batch.competition_id,
            CertificateBatch.kind == batch.kind,
            CertificateBatch.id < batch.id,
            CertificateBatch.filename.is_not(None),
        )
    ):
        assert old.filename is not None  # as the query asks
        (folder() / old.filename).unlink(missing_ok=True)
        old.filename = None
    db.session.commit()


PAGE_SIZE = 100


def overview(competition: Competition, page_number: int = 1) -> dict:
    """Return what the organizer's certificates page shows, the list a page at a time."""
    awarded = certificate_service.awarded_in(competition)
    listed = (
        sa.select(Certificate)
        .join(Entrant)
        .where(Entrant.competition_id == competition.id)
        .options(so.contains_eager(Certificate.entrant), so.joinedload(Certificate.replaced_by))
    )
    by_status = dict(
        db.session.execute(
            sa.select(Certificate.status, sa.func.count())
            .join(Entrant)
            .where(Entrant.competition_id == competition.id)
            .group_by(Certificate.status)
        ).all()
    )
    total = sum(by_status.values())
    pages = max(1, -(-total // PAGE_SIZE))
    page_number = min(max(1, page_number), pages)
    seal = db.session.scalar(sa.select(CertificateSeal).where(CertificateSeal.competition_id == competition.id))
    return {
        "design": design(competition),
        "seal": seal,
        "awarded": len(awarded),
        "refusal": certificate_service.refusal(competition),
        "refusal_now": certificate_service.refusal(competition, now=True),
        "notice_ends": lifecycle.notice_ends(competition),
        "valid": by_status.get("valid", 0),
        "revoked": by_status.get("revoked", 0),
        "stale": certificate_service.stale(competition, awarded),
        "batches": latest_batches(competition),
        "certificates": db.session.scalars(
            listed.order_by(Certificate.id).limit(PAGE_SIZE).offset((page_number - 1) * PAGE_SIZE)
        ).all(),
        "counts": certificate_service.verification_counts(competition),
        "page": page_number,
        "pages": pages,
    }


def preview(competition: Competition) -> bytes:
    """Return a sample certificate in the current design: the first one issued, else made-up facts."""
    first = db.session.scalar(
        sa.select(Certificate)
        .join(Entrant)
        .where(Entrant.competition_id == competition.id)
        .order_by(Certificate.id)
        .limit(1)
    )
    seal = certificate_service.seal_of(competition)
    if first is not None:
        return layout.render(certificate_service.page(first, seal))
    saved = design(competition)
    sample = layout.CertificatePage(
        number=f"{competition.code}-000",
        code="SAMPLE000000",
        url=current_app.config.get("PUBLIC_BASE_URL", ""),
        issued_on=saved["date"] or certificate_service.local_date(),
        kind=layout_kind(competition),
        values={
            "name": "张三" if competition.kind == "competition" else "某某班组",
            "competition": competition.name,
            "award": "一等奖" if competition.kind == "competition" else "五星",
            "rank": 1,
            "year": competition.year,
            "employer": "",
            "honour": "五星级" + certificate_service.UNIT_TITLES["studio"],
        },
        title=saved["title"],
        body=saved["body"],
        issuer=saved["issuer"],
        seal=seal,
    )
    return layout.render(sample)


def layout_kind(competition: Competition) -> str:
    """Return the body template family: a person's certificate, or a rated unit's."""
    return "person" if competition.kind == "competition" else "unit"
