"""What certificates look like and what is printed from them: the design, the seal, batch
files of all of a competition's certificates, and the results bulletin (成绩公示表).

A batch of thousands of certificates takes minutes (a city-wide preliminary awards some
6,000), longer than a request should last, so it is a job (comp.services.jobs) that the job worker
builds into a file under the instance folder, a part file at a time, its progress and
heartbeat in the database for the organizer's progress bar on any app server; a worker
killed mid-batch leaves its finished parts, and the batch resumes from them when the
reaper queues it again. Any app process can then send the finished file.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _
from pypdf import PdfWriter

from comp.certificates import Sheets, layout
from comp.certificates import seal as seal_image
from comp.certificates.archive import Archive
from comp.extensions import db
from comp.models import Certificate, CertificateBatch, CertificateSeal, Competition, Entrant, OrgUnit, User
from comp.models.types import utcnow
from comp.services import ServiceError, in_transaction, jobs, transaction
from comp.services import certs as certificate_service
from comp.services import results as results_service
from comp.services.common import audit, heartbeat
from comp.services.hall import printing
from comp.services.setup import lifecycle

CHUNK = 50  # certificates loaded, drawn and counted as done at a time
SEGMENT = 500  # certificates in one part file: what a resumed batch draws again at most
STALLED_AFTER = timedelta(seconds=jobs.STALLED_AFTER)  # the default of JOBS_STALLED_AFTER
JOB = "certificate_batch"  # the job's name in the queue and in /metrics


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
    base = current_app.config.get("PUBLIC_BASE_URL") or ""  # required outside development: QR codes use it too
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
    """Tell whether a running batch has stopped moving: its worker died, or no worker runs."""
    return batch.status == "running" and utcnow() - batch.updated_at > jobs.stalled_after()


def stalled_ids() -> list[int]:
    """Return the running batches that stopped moving, oldest first: the reaper queues them again."""
    return heartbeat.stalled_ids(CertificateBatch)


def counts_by_state() -> dict[str, int]:
    """Return how many batches are in each state: running (of which some may be stalled), done, failed."""
    return heartbeat.counts_by_state(CertificateBatch)


def latest_batches(competition: Competition) -> dict[str, CertificateBatch]:
    """Return the newest batch of each kind."""
    latest: dict[str, CertificateBatch] = {}
    # populate_existing: the job worker moves batches on behind this session's back.
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
    """Queue a batch file of every valid certificate, unless one is being built already.

    A batch that stopped moving (its worker died) is queued again, to resume where it stopped.
    """
    if kind not in ("pdf", "zip"):
        raise ServiceError(_("Unknown batch kind."))
    running = latest_batches(competition).get(kind)
    if running is not None and running.status == "running":
        if stalled(running):
            jobs.submit(JOB, running.id)
            db.session.refresh(running)
        return running
    count = len(certificate_service.certificates(competition, "valid"))
    if not count:
        raise ServiceError(_("There are no valid certificates to print yet."))
    now = utcnow()
    with transaction():
        batch = CertificateBatch(
            competition_id=competition.id,
            kind=kind,
            status="running",
            total=count,
            done=0,
            requested_by_id=getattr(actor, "id", None),
            created_at=now,
            updated_at=now,  # equal to created_at until a worker claims the batch
        )
        db.session.add(batch)
        db.session.flush()
        audit.record("certificates.batch", actor, competition, batch, kind=kind, count=count)
    assert not in_transaction(), "start_batch() commits its row before it queues the job: call it outside a block"
    jobs.submit(JOB, batch.id)  # committed: the worker finds the row
    db.session.refresh(batch)  # immediate mode (the tests) has built it already
    return batch


Lost = heartbeat.Lost  # another worker took the batch over


def run(batch_id: int) -> None:
    """The job: claim the batch, build (or resume) it, record a failure on the batch rather than lose it.

    A batch that is done or failed, or that another live worker holds, is left alone: running a
    batch's job twice does nothing twice.
    """
    jobs.moved(JOB, "queued", -1)
    token = _claim(batch_id)
    if token is None:
        return  # done, failed, or held by a live worker: nothing to do
    jobs.moved(JOB, "running", 1)
    outcome = "done"
    try:
        _build(batch_id, token)
    except Lost:
        outcome = "lost"
        db.session.rollback()
        current_app.logger.warning("certificate batch %s was taken over by another worker", batch_id)
    except Exception as error:  # the job has no caller to raise to: record and log
        outcome = "failed"
        db.session.rollback()
        current_app.logger.exception("certificate batch %s failed", batch_id)
        heartbeat.fail(CertificateBatch, batch_id, error)
    finally:
        jobs.moved(JOB, "running", -1)
    jobs.moved(JOB, outcome, 1)


def _claim(batch_id: int) -> datetime | None:
    """Take the batch if nobody holds it (never started, or stopped moving); return the heartbeat it now has."""
    return heartbeat.claim(CertificateBatch, batch_id)


def _beat(batch_id: int, token: datetime, **values) -> datetime:
    """Record progress and the heartbeat, if this worker still holds the batch; return the new heartbeat."""
    return heartbeat.beat(CertificateBatch, batch_id, token, **values)


def segment_size() -> int:
    """Return how many certificates go into one part file (CERTIFICATE_BATCH_SEGMENT): what a resume redraws."""
    return max(1, int(current_app.config.get("CERTIFICATE_BATCH_SEGMENT") or SEGMENT))


def _build(batch_id: int, token: datetime) -> None:
    """Draw the batch a part file at a time, skipping the parts a dead worker finished, then join them.

    The certificates (and their order) are fixed in a manifest when the batch starts, so a resumed
    batch draws exactly the ones it began with; each part is written under a temporary name and
    renamed when complete, so a part that exists is whole. Numbers are not made here: they were
    given when the certificates were issued.
    """
    batch = db.session.get(CertificateBatch, batch_id)
    assert batch is not None  # claimed just now
    competition = db.session.get(Competition, batch.competition_id)
    assert competition is not None  # the batch's foreign key
    kind = batch.kind
    name = f"{competition.code}-certificates-{batch.id}.{kind}"
    work = folder() / f"{name}.parts"
    ids = _manifest(work, competition)
    size = segment_size()
    starts = list(range(0, len(ids), size))
    todo = [first for first in starts if not (work / f"{first:07d}.{kind}").is_file()]
    done = todo[0] if todo else len(ids)
    if done:
        current_app.logger.info("certificate batch %s resumes at %d of %d", batch_id, done, len(ids))
    token = _beat(batch_id, token, total=len(ids), done=done)
    for first in todo:
        part = work / f"{first:07d}.{kind}"
        partial = work / f"{first:07d}.{kind}.tmp"
        writer = Sheets(str(partial), competition.name) if kind == "pdf" else Archive(str(partial))
        drawn = 0

        def progress(count: int, first: int = first) -> None:
            nonlocal token, drawn
            drawn += count
            token = _beat(batch_id, token, done=first + drawn)

        draw_all(competition, ids[first : first + size], writer, progress)
        writer.close()
        os.replace(partial, part)  # the part is whole once it has its name
    parts = [work / f"{first:07d}.{kind}" for first in starts]
    joined = work / name
    (_join_pdf if kind == "pdf" else _join_zip)(parts, joined, competition.name)
    os.replace(joined, folder() / name)
    now = utcnow()
    _beat(batch_id, token, filename=name, status="done", done=len(ids), finished_at=now)
    shutil.rmtree(work, ignore_errors=True)
    db.session.expire_all()
    batch = db.session.get(CertificateBatch, batch_id)
    assert batch is not None
    _remove_older(batch)


def _manifest(work: Path, competition: Competition) -> list[int]:
    """Return the batch's certificate ids: fixed in the work folder the first time, read back on a resume."""
    manifest = work / "ids.json"
    if manifest.is_file():
        return [int(i) for i in json.loads(manifest.read_text())]
    shutil.rmtree(work, ignore_errors=True)  # parts without their manifest belong to nothing
    work.mkdir(parents=True)
    ids = list(
        db.session.scalars(
            sa.select(Certificate.id)
            .join(Entrant)
            .where(Entrant.competition_id == competition.id, Certificate.status == "valid")
            .order_by(Certificate.id)
        )
    )
    partial = work / "ids.json.tmp"
    partial.write_text(json.dumps(ids))
    os.replace(partial, manifest)
    return ids


def _join_pdf(parts: list[Path], out: Path, title: str) -> None:
    """Join the parts' pages into one PDF (a single part is copied as it is)."""
    if len(parts) <= 1:
        if parts:
            shutil.copyfile(parts[0], out)
        else:
            Sheets(str(out), title).close()
        return
    writer = PdfWriter()
    for part in parts:
        writer.append(str(part))
    writer.add_metadata({"/Title": title, "/Creator": "Jiangxin"})
    with out.open("wb") as file:
        writer.write(file)


def _join_zip(parts: list[Path], out: Path, title: str) -> None:
    """Copy the members of the parts' ZIPs into one ZIP, stored as they were."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as joined:
        for part in parts:
            with zipfile.ZipFile(part) as source:
                for member in source.infolist():
                    joined.writestr(member, source.read(member))


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
    """Delete the files of earlier batches of the same kind, and any parts they left: the newest supersedes them."""
    for old in db.session.scalars(
        sa.select(CertificateBatch).where(
            CertificateBatch.competition_id == batch.competition_id,
            CertificateBatch.kind == batch.kind,
            CertificateBatch.id < batch.id,
            CertificateBatch.status != "running",
        )
    ):
        if old.filename:
            (folder() / old.filename).unlink(missing_ok=True)
            old.filename = None
        for parts in folder().glob(f"*-certificates-{old.id}.{old.kind}.parts"):
            shutil.rmtree(parts, ignore_errors=True)
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
