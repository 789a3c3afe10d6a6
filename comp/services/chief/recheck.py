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
BLOCKING = ("waiting", "differs", "third")


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
    third: Decimal | None = None
    third_marker: str = ""
    mine: bool = False  # on a marker's page: this marker's own mark is the one shown as `second`


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


def review(competition: Competition, revealed: bool = False, blind_for: User | None = None) -> Review:
    """Return the re-check as the console shows it; `blind_for` a marker: only their marks, no panel's marks."""
    sample = sample_of(competition)
    if sample is None:
        return Review(None, (), True, "")
    loaded, summaries = (None, {}) if blind_for else _panel_marks(competition)
    query = (
        sa.select(RecheckItem, Entrant, Criterion, Stage)
        .join(Entrant, Entrant.id == RecheckItem.entrant_id)
        .join(Criterion, Criterion.id == RecheckItem.criterion_id)
        .join(Stage, Stage.id == Criterion.stage_id)
        .where(RecheckItem.sample_id == sample.id)
        .order_by(Entrant.secret_code, Stage.position, Criterion.position)
    )
    if blind_for is not None and blind_for.id != sample.marker_id:
        query = query.where(RecheckItem.third_marker_id == blind_for.id)
    names = _names(sample)
    items = []
    for item, entrant, criterion, stage in db.session.execute(query).all():
        first = None if loaded is None else _first(loaded, summaries, entrant.ref, f"{stage.key}.{criterion.key}")
        items.append(_view(item, entrant, criterion, stage, first, revealed, blind_for, names))
    return Review(sample, tuple(items), replay(sample), names.get(sample.marker_id, ""))


def _names(sample: RecheckSample) -> dict[int, str]:
    ids = {sample.marker_id} | {i.third_marker_id for i in sample.items if i.third_marker_id}
    return dict(db.session.execute(sa.select(User.id, User.display_name).where(User.id.in_(ids))).all())


def _cents(value: int | None) -> Decimal | None:
    return None if value is None else Decimal(value).scaleb(-2)


def _view(item, entrant, criterion, stage, first, revealed: bool, blind_for: User | None, names: dict) -> Item:
    state, second = item.state, _cents(item.second_cents)
    third_for_me = blind_for is not None and item.third_marker_id == blind_for.id
    if third_for_me:  # the third marker sees their own mark, and whether it is still wanted
        second, state = _cents(item.third_cents), "waiting" if item.state == "third" else "kept"
    return Item(
        item.id,
        entrant.secret_code or entrant.ref,
        entrant.name if revealed else None,
        f"{stage.name} · {criterion.name}",
        criterion.low_value,
        criterion.max_value,
        criterion.step,
        None if first is None else scoring.publish(first),
        second,
        state,
        item.note,
        None if blind_for else _cents(item.third_cents),
        names.get(item.third_marker_id or 0, ""),
        third_for_me,
    )


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


def _marker(competition: Competition, marker_id: int | None) -> User:
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
    value = _parsed(criterion, key, text)
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


def resolve(
    competition: Competition, actor, item_id: int, action: str, note: str, third_marker_id: int | None = None
) -> None:
    """Rule on a difference: keep the panel's mark, take the second (it replaces the panel's), or ask a third marker."""
    _require_running(competition)
    item = _item(competition, item_id)
    if item.state != "differs":
        raise ServiceError(_("Only a second mark that differs from the panel's waits for a ruling."))
    if action not in ("keep", "second", "third"):
        raise ServiceError(_("Choose to keep the panel's mark, to take the second one, or to ask a third marker."))
    note = (note or "").strip()
    if not note:
        raise ServiceError(_("Write why: the ruling is kept with the scores."))
    third = _third_marker(competition, item, third_marker_id) if action == "third" else None
    with transaction():
        item.note = note[:200]
        if third is not None:
            item.state, item.third_marker_id = "third", third.id
        else:
            item.state = "kept" if action == "keep" else "second"
            item.resolved_by_id, item.resolved_at = getattr(actor, "id", None), utcnow()
        lifecycle.touch(competition)
        audit.record(
            "recheck.resolved" if third is None else "recheck.third_asked",
            actor,
            competition,
            item,
            entrant=item.entrant.ref,
            criterion=f"{item.criterion.stage.key}.{item.criterion.key}",
            ruling=item.state,
            second=plain(Decimal(item.second_cents or 0).scaleb(-2)),
            third_marker=third.display_name if third else None,
            note=item.note,
        )


def _third_marker(competition: Competition, item: RecheckItem, marker_id: int | None) -> User:
    if marker_id is None:
        raise ServiceError(_("Choose the third marker."))
    marker = _marker(competition, marker_id)
    if marker.id == item.sample.marker_id:
        raise ServiceError(_("The third marker is another judge than the second marker."))
    if recusal.is_recused(marker, item.entrant):
        raise ServiceError(
            _(
                "%(marker)s may not mark %(code)s: choose another marker.",
                marker=marker.display_name,
                code=item.entrant.secret_code,
            )
        )
    return marker


def save_third(competition: Competition, user: User, item_id: int, text: str) -> RecheckItem:
    """Record the third marker's blind mark: it keeps whichever of the panel's and the second mark is nearer."""
    _require_running(competition)
    item = _item(competition, item_id)
    if item.third_marker_id != user.id:
        raise PermissionError("only the third marker asked gives the third mark")
    if item.state != "third":
        raise ServiceError(_("The chief judge has ruled on this mark; it no longer changes."))
    criterion, key = item.criterion, f"{item.criterion.stage.key}.{item.criterion.key}"
    value = _parsed(criterion, key, text)
    loaded, summaries = _panel_marks(competition)
    first = _first(loaded, summaries, item.entrant.ref, key)
    second = Fraction(item.second_cents or 0, 100)
    # The nearer of the two stands; on a tie the panel's mark.
    keeps_panel = first is not None and abs(Fraction(value) - first) <= abs(Fraction(value) - second)
    with transaction():
        item.third_cents = int(value * 100)
        item.state = "kept" if keeps_panel else "second"
        item.resolved_by_id, item.resolved_at = user.id, utcnow()
        lifecycle.touch(competition)
        audit.record(
            "recheck.third_marked",
            user,
            competition,
            item,
            entrant=item.entrant.ref,
            criterion=key,
            value=plain(value),
            ruling=item.state,
        )
    return item


def _parsed(criterion: Criterion, key: str, text: str) -> Decimal:
    try:
        return scoring.parse_mark(rule(key, criterion), text)
    except scoring.MarkError as error:
        from comp.services.common import wording

        raise ServiceError(wording.message(error.code, error.params)) from None


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
    if counts.get("third"):
        problems.append(_("%(n)s re-check marks wait for a third marker.", n=counts["third"]))
    if counts.get("waiting"):
        problems.append(_("%(n)s sampled marks wait for the second marker.", n=counts["waiting"]))
    if counts.get("differs"):
        problems.append(_("%(n)s re-check differences wait for the chief judge's ruling.", n=counts["differs"]))
    return problems


def waiting_for(competition: Competition, user: User) -> int:
    """Count the sampled marks that wait for this user, as the second marker or as a third marker asked."""
    mine = sa.or_(
        sa.and_(RecheckSample.marker_id == user.id, RecheckItem.state == "waiting"),
        sa.and_(RecheckItem.third_marker_id == user.id, RecheckItem.state == "third"),
    )
    return (
        db.session.scalar(
            sa.select(sa.func.count(RecheckItem.id))
            .join(RecheckSample)
            .where(RecheckSample.competition_id == competition.id, mine)
        )
        or 0
    )


def marks_for(competition: Competition, user: User) -> bool:
    """Tell whether this user has a re-check page: the second marker, or a third marker asked."""
    sample = sample_of(competition)
    if sample is None:
        return False
    return sample.marker_id == user.id or any(i.third_marker_id == user.id for i in sample.items)
