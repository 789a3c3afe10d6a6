"""Properties that hold for any field of entrants and marks (hypothesis)."""

from collections import defaultdict
from decimal import Decimal as D
from fractions import Fraction as F

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comp.scoring import (
    AwardTier,
    Criterion,
    Entrant,
    EntrantResult,
    MarkSummary,
    Rules,
    Scheme,
    Stage,
    aggregate,
    awards,
    bias_parts,
    compute,
    count_cutoffs,
    share_cutoffs,
)

SCHEME = Scheme(
    (
        Stage("theory", "理论", D("30"), (Criterion("theory.exam", "考试", D("10"), aggregation="single"),)),
        Stage(
            "practical",
            "实操",
            D("70"),
            (
                Criterion("practical.route", "航线", D("10"), aggregation="trimmed"),
                Criterion("practical.taste", "口感", D("5"), aggregation="median"),
                Criterion("practical.hygiene", "卫生", D("5"), kind="deduction"),
            ),
        ),
    )
)
RULES = Rules(award_min_total=D("30"))
JUDGES = ("J1", "J2", "J3", "J4")
# Few distinct values, so that ties — the interesting cases — are common.
VALUES = {c.key: [D(n) / 2 for n in range(0, int(c.max) * 2 + 1, 3)] for c in SCHEME.criteria}
PROPERTY = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def fields(draw):
    """Draw entrants and their raw (judge, entrant, criterion, value) marks."""
    count = draw(st.integers(1, 12))
    entrants, marks = [], []
    for i in range(count):
        ref = f"E{i:02d}"
        status = draw(st.sampled_from(["ok"] * 6 + ["absent", "disqualified"]))
        time = draw(st.one_of(st.none(), st.sampled_from([600, 700])))
        entrants.append(Entrant(ref, status, time, draw(st.sampled_from(["A", "B", "C"]))))
        for criterion in SCHEME.criteria:
            judges = 1 if criterion.aggregation == "single" else draw(st.integers(0, 4))
            for judge in JUDGES[:judges]:
                marks.append((judge, ref, criterion.key, draw(st.sampled_from(VALUES[criterion.key]))))
    return entrants, marks


def run(entrants, marks):
    """Summarise the raw marks and compute the results."""
    values = defaultdict(list)
    for _, ref, key, value in marks:
        values[(ref, key)].append(value)
    summaries = {key: MarkSummary.of(v) for key, v in values.items()}
    return compute(SCHEME, RULES, entrants, summaries, bias_parts(marks, SCHEME))


@PROPERTY
@given(fields(), st.randoms(use_true_random=False))
def test_shuffling_entrants_or_marks_changes_nothing(field, random):
    entrants, marks = field
    shuffled_entrants, shuffled_marks = list(entrants), list(marks)
    random.shuffle(shuffled_entrants)
    random.shuffle(shuffled_marks)
    assert run(shuffled_entrants, shuffled_marks) == run(entrants, marks)


@PROPERTY
@given(fields(), st.data())
def test_raising_a_mark_never_lowers_the_rank(field, data):
    entrants, marks = field
    before = run(entrants, marks)
    raisable = [
        i
        for i, (_, ref, key, value) in enumerate(marks)
        if before.entrant(ref).rank is not None
        and SCHEME.criterion(key).kind == "score"
        and value < SCHEME.criterion(key).max
    ]
    if not raisable:
        return
    index = data.draw(st.sampled_from(raisable))
    judge, ref, key, value = marks[index]
    higher = data.draw(st.sampled_from([v for v in VALUES[key] if v > value] or [SCHEME.criterion(key).max]))
    raised = marks[:index] + [(judge, ref, key, higher)] + marks[index + 1 :]
    assert run(entrants, raised).entrant(ref).rank <= before.entrant(ref).rank


@PROPERTY
@given(fields())
def test_tied_entrants_share_rank_and_award(field):
    ranked = [r for r in run(*field).entrants if r.rank is not None]
    times = {e.ref: e.time_seconds for e in field[0]}
    for a in ranked:
        for b in ranked:
            if (a.total, a.stages["practical"], times[a.ref]) == (b.total, b.stages["practical"], times[b.ref]):
                assert a.rank == b.rank
            if a.rank == b.rank:
                assert a.award == b.award


@PROPERTY
@given(fields())
def test_awards_respect_the_cut_offs(field):
    ranked = [r for r in run(*field).entrants if r.rank is not None]
    cutoffs = share_cutoffs(len(ranked), RULES.award_tiers)
    for level, cut in enumerate(cutoffs, start=1):
        names = {t.name for t in RULES.award_tiers[:level]}
        awarded = [r for r in ranked if r.award in names]
        # Everyone awarded at this level or better ranks within the cut-off …
        assert all(r.rank <= cut for r in awarded)
        # … everyone within it who reaches the minimum is awarded …
        assert all(r in awarded for r in ranked if r.rank <= cut and r.total >= RULES.award_min_total)
        # … and only a tie on the last awarded rank can take the count past the cut-off.
        if awarded:
            last = max(r.rank for r in awarded)
            assert len([r for r in awarded if r.rank < last]) < max(cut, 1)


@PROPERTY
@given(fields())
def test_ranks_follow_published_totals(field):
    results = run(*field)
    ranked = [r for r in results.entrants if r.rank is not None]
    assert [r.rank for r in ranked] == sorted(r.rank for r in ranked)
    assert all(a.total >= b.total for a, b in zip(ranked, ranked[1:]))
    assert all(r.rank <= i + 1 for i, r in enumerate(ranked))
    assert results.complete == all(r.complete for r in results.entrants if r.status == "ok")


@st.composite
def places_field(draw):
    """Ranked totals with ties (standard competition ranks) and tiers by fixed numbers of places."""
    totals = sorted(draw(st.lists(st.integers(5000, 10000), min_size=0, max_size=30)), reverse=True)
    ranked = [
        EntrantResult(f"E{i}", "ok", 1 + sum(t > total for t in totals), D(total) / 100, None, complete=True)
        for i, total in enumerate(totals)
    ]
    counts = draw(st.lists(st.integers(1, 8), min_size=1, max_size=4))
    tiers = tuple(AwardTier(f"T{i}", count=n) for i, n in enumerate(counts))
    return ranked, Rules(award_tiers=tiers, tiebreak=())


@PROPERTY
@given(places_field())
def test_fixed_places_hold_their_counts_but_for_ties(case):
    ranked, rules = case
    got = awards(ranked, rules)
    cutoffs = count_cutoffs(rules.award_tiers)
    assert sum(1 for name in got.values() if name) <= len(ranked)  # never more awards than entrants
    for level, cut in enumerate(cutoffs, start=1):
        names = {t.name for t in rules.award_tiers[:level]}
        better = [r for r in ranked if got[r.ref] in names]
        # Within a cut-off and above the minimum: awarded at that level or better; beyond it: not.
        assert all(r in better for r in ranked if r.rank <= cut and r.total >= rules.award_min_total)
        assert all(r.rank <= cut for r in better)
        # Only entrants tied on the last place within the cut-off take the count past it.
        if len(better) > cut:
            assert len({r.rank for r in better if r.rank == max(x.rank for x in better)}) == 1
            assert len([r for r in better if r.rank < max(x.rank for x in better)]) < cut
        # Tied entrants always get the same award.
        for a in ranked:
            assert all(got[a.ref] == got[b.ref] for b in ranked if b.rank == a.rank)


@PROPERTY
@given(st.lists(st.integers(0, 1000), min_size=1, max_size=15), st.integers(1, 4))
def test_a_trimmed_mean_is_symmetric_and_within_the_kept_marks(cents, k):
    summary = MarkSummary.of(D(c) / 100 for c in cents)
    criterion = Criterion("s.c", "c", D("10"), aggregation="trimmed", trim=k)
    score = aggregate(criterion, summary)
    # Mirrored marks (10 − m) give the mirrored score: the same number dropped from each end.
    mirrored = MarkSummary.of((1000 - D(c)) / 100 for c in cents)
    assert aggregate(criterion, mirrored) == 10 - score
    ordered = sorted(cents)
    kept = ordered[k:-k] if len(cents) >= 2 * k + 1 else ordered
    assert F(min(kept), 100) <= score <= F(max(kept), 100)
    assert score == F(sum(kept), 100 * len(kept))
