"""Certificates: issue them once the notice period is over, revoke, reissue, verify, print.

One certificate per entrant holding an award in the published results; for a rating, the
unit's tier. Its verification code covers the number and the certified facts, so a changed
fact (a corrected name, a moved award) shows as stale until the organizer reissues.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
import sqlalchemy.orm as so
from flask import current_app
from flask_babel import gettext as _

from comp.certificates import codes, layout
from comp.extensions import db
from comp.models import AuditEvent, Certificate, CertificateSeal, Competition, Entrant, User, Verification
from comp.models.competition import PUBLIC_STATES
from comp.models.types import utcnow
from comp.services import ServiceError, transaction
from comp.services import results as results_service
from comp.services.common import audit
from comp.services.setup import lifecycle

UNIT_TITLES = {"studio": "劳模工匠创新工作室", "team": "“六型”工匠班组"}


@dataclass(frozen=True)
class Verdict:
    """The answer to a verification: valid, revoked or invalid, and the certificate if not invalid."""

    number: str
    status: str
    certificate: Certificate | None = None


def _key() -> bytes:
    """Return the certificate key, derived from CERT_KEY alone: rotating SECRET_KEY leaves printed codes valid."""
    secret = current_app.config["CERT_KEY"]
    cache = current_app.extensions.setdefault("jiangxin.certificate_keys", {})
    if secret not in cache:
        cache[secret] = codes.derive_key(secret)
    return cache[secret]


def local_time(moment: datetime | None = None) -> datetime:
    """Return a stored UTC time (default: now) in the app's time zone."""
    moment = (moment or utcnow()).replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"]))


def local_date(moment: datetime | None = None) -> date:
    """Return the date in the app's time zone of a stored UTC time (default: today)."""
    return local_time(moment).date()


def facts(certificate: Certificate) -> codes.Certified:
    """Return what the certificate certifies, as its code covers it."""
    entrant = certificate.entrant
    return codes.Certified(
        certificate.number,
        entrant.name,
        entrant.competition.code,
        certificate.award,
        certificate.rank,
        certificate.issued_on,
    )


def _of(competition: Competition):
    return sa.select(Certificate).join(Entrant).where(Entrant.competition_id == competition.id)


def certificates(competition: Competition, status: str | None = None) -> list[Certificate]:
    """Return the competition's certificates in issue order, entrants loaded."""
    query = _of(competition).options(so.contains_eager(Certificate.entrant)).order_by(Certificate.id)
    if status:
        query = query.where(Certificate.status == status)
    return list(db.session.scalars(query))


def refusal(competition: Competition, now: bool = False) -> str | None:
    """Say why certificates cannot be issued yet, or None when they can."""
    if competition.status not in PUBLIC_STATES:
        return _("Certificates are issued once the results are published.")
    if not now and not lifecycle.notice_over(competition):
        ends = local_time(lifecycle.notice_ends(competition)).strftime("%Y-%m-%d %H:%M")
        return _("Certificates are issued after the notice period, which ends %(when)s.", when=ends)
    return None


@dataclass(frozen=True)
class Issuance:
    """What the certificates page says about issuing: when the last issue was, whether early, what is missing."""

    last_at: datetime | None  # the latest issue, UTC; None before any
    early: bool  # that issue came before the notice period ended
    missing: int  # award winners without a valid certificate


def issuance(competition: Competition, awarded: dict[str, tuple[str, int | None]] | None = None) -> Issuance:
    """Tell when the competition's certificates were last issued, and how many award winners still lack one."""
    awarded = awarded_in(competition) if awarded is None else awarded
    last = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.competition_id == competition.id, AuditEvent.action == "certificates.issue")
        .order_by(AuditEvent.id.desc())
        .limit(1)
    )
    held = set(
        db.session.scalars(
            sa.select(Entrant.ref)
            .join(Certificate, Certificate.entrant_id == Entrant.id)
            .where(Entrant.competition_id == competition.id, Certificate.status == "valid")
        )
    )
    return Issuance(
        last_at=last.at if last is not None else None,
        early=bool(last is not None and last.detail.get("early")),
        missing=len(set(awarded) - held),
    )


def awarded_in(competition: Competition) -> dict[str, tuple[str, int | None]]:
    """Map each awarded entrant's ref to its (award, rank) in the current results."""
    doc = results_service.document(competition)
    return {row["ref"]: (row["award"], row["rank"]) for row in doc["results"] if row["award"]}


def _next_sequence(competition: Competition) -> int:
    numbers = db.session.scalars(
        sa.select(Certificate.number).join(Entrant).where(Entrant.competition_id == competition.id)
    )
    return max((codes.sequence_of(competition.code, n) or 0 for n in numbers), default=0) + 1


def _new(entrant: Entrant, award: str, rank: int | None, number: str, issued_on: date) -> Certificate:
    certificate = Certificate(
        number=number, entrant=entrant, award=award, rank=rank, issued_on=issued_on, status="valid"
    )
    certificate.verify_code = codes.verification_code(_key(), facts(certificate))
    db.session.add(certificate)
    return certificate


def _issue_date(competition: Competition) -> date:
    chosen = (competition.certificate or {}).get("date")
    return date.fromisoformat(chosen) if chosen else local_date()


def _issue_missing(
    competition: Competition, awarded: dict[str, tuple[str, int | None]], only: set[int] | None = None
) -> list[Certificate]:
    """Add a certificate for every awarded entrant (of `only`) without a valid one, numbered in rank order."""
    held = set(
        db.session.scalars(
            sa.select(Certificate.entrant_id)
            .join(Entrant)
            .where(Entrant.competition_id == competition.id, Certificate.status == "valid")
        )
    )
    # Only entrants with status ok are ranked: no IN list of thousands of refs is needed.
    entrants = db.session.scalars(
        sa.select(Entrant).where(Entrant.competition_id == competition.id, Entrant.status == "ok")
    ).all()
    waiting = sorted(
        (e for e in entrants if e.ref in awarded and e.id not in held and (only is None or e.id in only)),
        key=lambda e: (awarded[e.ref][1] or 0, e.ref),
    )
    issued_on, sequence = _issue_date(competition), _next_sequence(competition)
    return [
        _new(entrant, *awarded[entrant.ref], codes.number(competition.code, sequence + offset), issued_on)
        for offset, entrant in enumerate(waiting)
    ]


def issue(competition: Competition, actor: User | None = None, now: bool = False) -> list[Certificate]:
    """Issue a certificate to every awarded entrant that holds no valid one; return the new ones.

    Refused before publication, and before the notice period ends unless `now`, which the
    audit trail records. Issuing again issues nothing new.
    """
    reason = refusal(competition, now)
    if reason:
        raise ServiceError(reason)
    awarded = awarded_in(competition)
    with transaction():
        new = _issue_missing(competition, awarded)
        if new:
            notice_ends = lifecycle.notice_ends(competition)
            assert notice_ends is not None  # refusal() let only published results through, which have their time
            audit.record(
                "certificates.issue",
                actor,
                competition,
                competition,
                count=len(new),
                first=new[0].number,
                last=new[-1].number,
                early=not lifecycle.notice_over(competition),
                notice_ends=notice_ends.isoformat(timespec="minutes"),
            )
    return new


def stale(competition: Competition, awarded: dict | None = None) -> list[Certificate]:
    """Return the valid certificates whose facts the results or the entrant no longer bear out."""
    awarded = awarded_in(competition) if awarded is None else awarded
    return [
        c
        for c in certificates(competition, "valid")
        if awarded.get(c.entrant.ref) != (c.award, c.rank) or codes.verification_code(_key(), facts(c)) != c.verify_code
    ]


def revoke(certificate: Certificate, reason: str, actor: User | None = None) -> None:
    """Revoke a valid certificate, with the reason verification will show."""
    reason = (reason or "").strip()
    if not reason:
        raise ServiceError(_("Give the reason for revoking the certificate."))
    if certificate.status != "valid":
        raise ServiceError(_("Certificate %(number)s is already revoked.", number=certificate.number))
    with transaction():
        _revoke(certificate, reason[:200])
        audit.record(
            "certificates.revoke",
            actor,
            certificate.entrant.competition,
            certificate,
            number=certificate.number,
            reason=reason[:200],
        )


def _revoke(certificate: Certificate, reason: str) -> None:
    certificate.status, certificate.revoked_at, certificate.revoke_reason = "revoked", utcnow(), reason


def reissue(competition: Competition, actor: User | None = None, reason: str = "") -> list[Certificate]:
    """Revoke the stale certificates; their holders still awarded get new ones under new numbers.

    A new award winner gets a certificate from `issue`, which keeps to the notice period.
    """
    reason = (reason or "").strip()[:200] or _("Results changed; replaced by a new certificate.")
    refused = refusal(competition, now=True)
    if refused:
        raise ServiceError(refused)
    awarded = awarded_in(competition)
    outdated = stale(competition, awarded)
    with transaction():
        for old in outdated:
            _revoke(old, reason)
        db.session.flush()
        new = _issue_missing(competition, awarded, only={old.entrant_id for old in outdated})
        successor = {c.entrant.id: c for c in new}
        for old in outdated:
            old.replaced_by = successor.get(old.entrant_id)
        if outdated or new:
            audit.record(
                "certificates.reissue",
                actor,
                competition,
                competition,
                reason=reason,
                revoked=[c.number for c in outdated],
                issued=[c.number for c in new],
            )
    return new


def get(number: str) -> Certificate | None:
    """Return the certificate with this number, if any."""
    return db.session.scalar(sa.select(Certificate).where(Certificate.number == number[:64]))


def verify(number: str, code: str | None) -> Verdict:
    """Check a number and code against the certified facts, and log the check."""
    certificate = get(number)
    ok = certificate is not None and codes.matches(_key(), facts(certificate), code)
    if ok and certificate is not None:  # ok already says it is there
        verdict = Verdict(number, certificate.status, certificate)
    else:
        verdict = Verdict(number, "invalid")
    with transaction():
        db.session.add(
            Verification(
                number=number[:64], certificate_id=certificate.id if certificate else None, result=verdict.status
            )
        )
    return verdict


def mask_name(entrant: Entrant) -> str:
    """Show a person's name with all but the first character hidden (张*); a unit's in full."""
    if entrant.type != "person":
        return entrant.name
    return entrant.name[:1] + "*" * max(1, len(entrant.name) - 1)


def public_record(verdict: Verdict) -> dict:
    """Return the verification as the SPEC's JSON: nothing but number and status when invalid."""
    if verdict.certificate is None:
        return {"number": verdict.number, "status": "invalid"}
    c = verdict.certificate
    record: dict[str, str | None] = {
        "number": c.number,
        "status": c.status,
        "name": mask_name(c.entrant),
        "competition": c.entrant.competition.name,
        "award": c.award,
        "issued": c.issued_on.isoformat(),
    }
    if c.status == "revoked":
        record.update(revoked=local_date(c.revoked_at).isoformat(), reason=c.revoke_reason)
    return record


def verification_counts(competition: Competition) -> dict[int, tuple[int, int]]:
    """Map each certificate id to its (successful, failed) verification counts."""
    rows = db.session.execute(
        sa.select(Verification.certificate_id, Verification.result, sa.func.count())
        .join(Certificate, Certificate.id == Verification.certificate_id)
        .join(Entrant)
        .where(Entrant.competition_id == competition.id)
        .group_by(Verification.certificate_id, Verification.result)
    ).all()
    counts: dict[int, list[int]] = {}
    for certificate_id, result, n in rows:
        assert certificate_id is not None  # the join to its certificate
        counts.setdefault(certificate_id, [0, 0])[1 if result == "invalid" else 0] += n
    return {k: (v[0], v[1]) for k, v in counts.items()}


def verify_url(certificate: Certificate) -> str:
    """Return the link the QR code carries: PUBLIC_BASE_URL/verify/NUMBER?c=CODE."""
    base = current_app.config.get("PUBLIC_BASE_URL", "").rstrip("/")
    return f"{base}/verify/{certificate.number}?c={certificate.verify_code}"


def page(certificate: Certificate, seal: bytes | None = None) -> layout.CertificatePage:
    """Return what the certificate's PDF page shows."""
    entrant = certificate.entrant
    competition = entrant.competition
    design = competition.certificate or {}
    kind = "person" if entrant.type == "person" else "unit"
    honour = certificate.award + ("级" if certificate.award.endswith("星") else "") + UNIT_TITLES.get(entrant.type, "")
    values = {
        "name": entrant.name,
        "competition": competition.name,
        "award": certificate.award,
        "rank": certificate.rank or "",
        "year": competition.year,
        "honour": honour,
        "employer": entrant.employer.name if entrant.employer else "",
    }
    return layout.CertificatePage(
        number=certificate.number,
        code=certificate.verify_code,
        url=verify_url(certificate),
        issued_on=certificate.issued_on,
        values=values,
        kind=kind,
        title=design.get("title") or layout.DEFAULT_TITLE,
        body=design.get("body") or "",
        issuer=design.get("issuer") or competition.organizer,
        seal=seal,
    )


def seal_of(competition: Competition) -> bytes | None:
    """Return the competition's seal PNG, if one was uploaded."""
    return db.session.scalar(sa.select(CertificateSeal.png).where(CertificateSeal.competition_id == competition.id))


def pdf(certificate: Certificate) -> bytes:
    """Return the certificate as a PDF."""
    return layout.render(page(certificate, seal_of(certificate.entrant.competition)))


def of_worker(user: User) -> list[Certificate]:
    """Return the worker's own certificates, newest first."""
    if user.worker_id is None:
        return []
    return list(
        db.session.scalars(
            sa.select(Certificate)
            .join(Entrant)
            .where(Entrant.worker_id == user.worker_id)
            .order_by(Certificate.issued_on.desc(), Certificate.id.desc())
        )
    )


def _plain(text: str) -> str:
    """Return typed text as it is compared: full-width forms folded (NFKC), no spaces."""
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def lookup(number: str, name: str, id_last4: str) -> Certificate | None:
    """Return the valid certificate matching number, holder's name and ID number's last 4 characters."""
    certificate = get(_plain(number))
    worker = certificate.entrant.worker if certificate else None
    if (
        certificate is None
        or certificate.status != "valid"
        or worker is None
        or not worker.id_masked
        or _plain(certificate.entrant.name) != _plain(name)
    ):
        return None
    return certificate if worker.id_masked[-4:] == _plain(id_last4).upper() else None
