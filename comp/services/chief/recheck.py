"""Re-check sampling (复核): after every mark is in and before the lock, a second marker re-marks a sample blind.

The organizer draws the sample from a recorded seed: every entrant in the award zone and a share
(15 % by default) of the other ranked entrants, each on every score criterion. The marker, one
judge of the panel, marks those criteria without seeing the panel's marks. A second mark further
from the panel's aggregated mark than the tolerance (a share of the criterion's range, 10 % by
default) waits for the chief judge's ruling: keep the panel's mark, or take the second one (it
then replaces the panel's mark in the results). The lock waits for every sampled mark and every
ruling. Drawing, each second mark and each ruling are audited; the sample can be drawn again from
its seed and compared.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import sqlalchemy as sa
from flask_babel import gettext as _

from comp import scoring
from comp.extensions import db
from comp.models import Competition, Criterion, Entrant, JudgeAssignment, RecheckItem, RecheckSample, Stage, User
from comp.models.types import plain, utcnow
from comp.services import ServiceError, results, transaction
from comp.services.common import audit
from comp.services.judging import recusal
from comp.services.judging.tally import rule
from comp.services.setup import lifecycle

DEFAULT_SHARE = Decimal("0.15")
DEFAULT_TOLERANCE = Decimal("0.10")
OPEN = ("waiting", "agreed", "differs")  # a second mark may still be entered or changed
BLOCKING = ("waiting", "differs")


@dataclass(frozen=True)
class Item:
    """One sampled mark as the console shows it; `first` is the panel's aggregated mark (None on the marker's page)."""

    id: int
    code: str
    name: str | None
    criterion: str
    low: Decimal
    maximum: Decimal
    step: Decimal | None
    first: Decimal | None
    second: Decimal | None
    state: str
    note: str | None


@dataclass(frozen=True)
class Review:
    """A competition's re-check: its sample (None before the draw), its items, and whether the seed replays it."""

    sample: RecheckSample | None
    items: tuple[Item, ...]
    verified: bool
    marker: str

    @property
    def waiting(self) -> int:
        """Count the sampled marks the second marker has not given yet."""
        return sum(1 for i in self.items if i.state == "waiting")

    @property
    def differing(self) -> int:
        """Count the differences that wait for the chief judge's ruling."""
        return sum(1 for i in self.items if i.state == "differs")


def sample_of(competition: Competition) -> RecheckSample | None:
    """Return the competition's re-check sample, if drawn."""
    return db.session.scalar(sa.select(RecheckSample).where(RecheckSample.competition_id == competition.id))


def _panel_marks(competition: Competition) -> tuple[results.Loaded, dict]:
    """Return the loaded competition and the panel's own summaries (no re-check ruling applied)."""
    loaded = results.load(competition)
    summaries, _bias = results.read_marks(competition, loaded)
    return loaded, summaries


def _first(loaded: results.Loaded, summaries: dict, ref: str, key: str) -> Fraction | None:
    ratio = scoring.mark_ratio(loaded.scheme.criterion(key), summaries.get((ref, key)))
    return None if ratio is None else Fraction(*ratio)


def review(competition: Competition, revealed: bool = False, blind: bool = False) -> Review:
    """Return the re-check as the console shows it (`blind`: without the panel's marks, for the marker)."""
    sample = sample_of(competition)
    if sample is None:
        return Review(None, (), True, "")
    loaded, summaries = (None, {}) if blind else _panel_marks(competition)
    rows = db.session.execute(
        sa.select(RecheckItem, Entrant, Criterion, Stage)
        .join(Entrant, Entrant.id == RecheckItem.entrant_id)
        .join(Criterion, Criterion.id == RecheckItem.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(RecheckItem.sample_id == sample.id)
        .order_by(Entrant.secret_code, Stage.position, Criterion.position)
    ).all()
    items = []
    for item, entrant, criterion, stage in rows:
        first = None if loaded is None else _first(loaded, summaries, entrant.ref, f"{stage.key}.{criterion.key}")
        items.append(
            Item(
                item.id,
                entrant.secret_code or entrant.ref,
                entrant.name if revealed else None,
                f"{stage.name} · {criterion.name}",
                criterion.low_value,
                criterion.max_value,
                criterion.step,
                None if first is None else scoring.publish(first),
                None if item.second_cents is None else Decimal(item.second_cents).scaleb(-2),
                item.state,
                item.note,
            )
        )
    marker = db.session.get(User, sample.marker_id)
    return Review(sample, tuple(items), replay(sample), marker.display_name if marker else "")


def replay(sample: RecheckSample) -> bool:
    """Tell whether drawing again from the recorded seed gives exactly the sampled entrants."""
    drawn = scoring.draw_sample(sample.seed, sample.zone, sample.pool, sample.share)
    stored = db.session.scalars(
        sa.select(Entrant.ref)
        .join(RecheckItem, RecheckItem.entrant_id == Entrant.id)
        .where(RecheckItem.sample_id == sample.id)
    ).all()
    return set(drawn) == set(stored)


def _require_running(competition: Competition) -> None:
    if competition.status != "running":
        raise ServiceError(_("The re-check happens while the competition is running, before the scores are locked."))


def _check_share(share: Decimal, tolerance: Decimal) -> None:
    if not 0 <= share <= 1:
        raise ServiceError(_("The share of the other entrants is a per cent from 0 to 100."))
    if not 0 < tolerance <= 1:
        raise ServiceError(_("The tolerance is a per cent of the criterion's range above 0 and at most 100."))


def draw(
    competition: Competition,
    actor,
    marker_id: int,
    share: Decimal = DEFAULT_SHARE,
    tolerance: Decimal = DEFAULT_TOLERANCE,
    seed: str | None = None,
) -> RecheckSample:
    """Draw the re-check sample once every mark is in: the award zone and `share` of the rest, from a seed."""
    _require_running(competition)
    _check_share(share, tolerance)
    if sample_of(competition) is not None:
        raise ServiceError(_("The re-check sample is drawn already."))
    loaded, outcome = results.compute(competition)
    if not outcome.complete:
        raise ServiceError(_("Marks are still missing: the sample is drawn once every mark is in."))
    marker = _marker(competition, marker_id)
    zone = [r.ref for r in outcome.entrants if r.rank is not None and r.award]
    pool = [r.ref for r in outcome.entrants if r.rank is not None and not r.award]
    seed = (seed or "").strip()[:32] or secrets.token_hex(8)
    refs = scoring.draw_sample(seed, zone, pool, share)
    entrants = {e.ref: e for e in competition.entrants if e.ref in refs}
    for ref in refs:
        if recusal.is_recused(marker, entrants[ref]):
            raise ServiceError(
                _(
                    "%(marker)s may not mark %(code)s: choose another marker.",
                    marker=marker.display_name,
                    code=entrants[ref].secret_code,
                )
            )
    criteria = db.session.scalars(
        sa.select(Criterion).join(Stage).where(Stage.competition_id == competition.id, Criterion.kind == "score")
    ).all()
    with transaction():
        sample = RecheckSample(
            competition_id=competition.id,
            seed=seed,
            share=share,
            tolerance=tolerance,
            zone=zone,
            pool=pool,
            marker_id=marker.id,
            drawn_by_id=getattr(actor, "id", None),
            drawn_at=utcnow(),
        )
        sample.items = [RecheckItem(entrant_id=entrants[ref].id, criterion_id=c.id) for ref in refs for c in criteria]
        db.session.add(sample)
        db.session.flush()
        lifecycle.touch(competition)
        audit.record(
            "recheck.drawn",
            actor,
            competition,
            sample,
            seed=seed,
            share=str(share),
            tolerance=str(tolerance),
            marker=marker.display_name,
            sampled=list(refs),
        )
    return sample


def _marker(competition: Competition, marker_id: int) -> User:
    marker = db.session.scalar(
        sa.select(User)
        .join(JudgeAssignment, JudgeAssignment.user_id == User.id)
        .where(JudgeAssignment.competition_id == competition.id, User.id == marker_id)
    )
    if marker is None:
        raise ServiceError(_("Choose the second marker among the competition's judges."))
    return marker


def _item(competition: Competition, item_id: int) -> RecheckItem:
    item = db.session.get(RecheckItem, item_id)
    if item is None or item.sample.competition_id != competition.id:
        raise ServiceError(_("No such re-check mark in this competition."))
    return item


def save_second(competition: Competition, user: User, item_id: int, text: str) -> RecheckItem:
    """Record the second marker's blind mark; it agrees or differs with the panel's by the tolerance."""
    _require_running(competition)
    item = _item(competition, item_id)
    if item.sample.marker_id != user.id:
        raise PermissionError("only the second marker marks the re-check")
    if item.state not in OPEN:
        raise ServiceError(_("The chief judge has ruled on this mark; it no longer changes."))
    criterion, entrant = item.criterion, item.entrant
    key = f"{criterion.stage.key}.{criterion.key}"
    try:
        value = scoring.parse_mark(rule(key, criterion), text)
    except scoring.MarkError as error:
        from comp.services.common import wording

        raise ServiceError(wording.message(error.code, error.params)) from None
    loaded, summaries = _panel_marks(competition)
    first = _first(loaded, summaries, entrant.ref, key)
    tolerance = item.sample.tolerance
    with transaction():
        previous = item.second_cents
        item.second_cents, item.second_at = int(value * 100), utcnow()
        far = first is None or scoring.differs(first, value, criterion.max_value - criterion.low_value, tolerance)
        item.state = "differs" if far else "agreed"
        audit.record(
            "recheck.marked",
            user,
            competition,
            item,
            entrant=entrant.ref,
            criterion=key,
            value=plain(value),
            previous=None if previous is None else plain(Decimal(previous).scaleb(-2)),
            state=item.state,
        )
    return item


def resolve(competition: Competition, actor, item_id: int, action: str, note: str) -> None:
    """Rule on a difference: keep the panel's mark, or take the second (it replaces the panel's in the results)."""
    _require_running(competition)
    item = _item(competition, item_id)
    if item.state != "differs":
        raise ServiceError(_("Only a second mark that differs from the panel's waits for a ruling."))
    if action not in ("keep", "second"):
        raise ServiceError(_("Choose to keep the panel's mark or to take the second one."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write why: the ruling is kept with the scores."))
    with transaction():
        item.state = "kept" if action == "keep" else "second"
        item.note, item.resolved_by_id, item.resolved_at = note[:200], getattr(actor, "id", None), utcnow()
        lifecycle.touch(competition)
        audit.record(
            "recheck.resolved",
            actor,
            competition,
            item,
            entrant=item.entrant.ref,
            criterion=f"{item.criterion.stage.key}.{item.criterion.key}",
            ruling=item.state,
            second=plain(Decimal(item.second_cents or 0).scaleb(-2)),
            note=item.note,
        )


def blockers(competition: Competition) -> list[str]:
    """Say what of the re-check keeps the scores from being locked."""
    counts = dict(
        db.session.execute(
            sa.select(RecheckItem.state, sa.func.count())
            .join(RecheckSample)
            .where(RecheckSample.competition_id == competition.id, RecheckItem.state.in_(BLOCKING))
            .group_by(RecheckItem.state)
        ).all()
    )
    problems = []
    if counts.get("waiting"):
        problems.append(_("%(n)s sampled marks wait for the second marker.", n=counts["waiting"]))
    if counts.get("differs"):
        problems.append(_("%(n)s re-check differences wait for the chief judge's ruling.", n=counts["differs"]))
    return problems


def waiting_for(competition: Competition, user: User) -> int:
    """Count the sampled marks that wait for this user as the second marker (0 for anyone else)."""
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecheckItem.id))
            .join(RecheckSample)
            .where(
                RecheckSample.competition_id == competition.id,
                RecheckSample.marker_id == user.id,
                RecheckItem.state == "waiting",
            )
        )
        or 0
    )
