"""The schema: migrations equal the models, the database enforces the rules, audit is append-only."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from comp.extensions import db
from comp.models import (
    AppendOnlyError,
    AuditEvent,
    Competition,
    Criterion,
    Entrant,
    JudgeAssignment,
    Mark,
    MarkChange,
    Stage,
    User,
)
from comp.models.types import Scaled


def _entrants(competition) -> dict[str, Entrant]:
    rows = db.session.scalars(sa.select(Entrant).where(Entrant.competition_id == competition.id))
    return {e.ref: e for e in rows}


def _panel(competition) -> dict[str, JudgeAssignment]:
    rows = db.session.scalars(sa.select(JudgeAssignment).where(JudgeAssignment.competition_id == competition.id))
    return {a.ref: a for a in rows}


def _any_mark(competition) -> Mark:
    return db.session.scalars(sa.select(Mark).where(Mark.competition_id == competition.id)).first()


def _cell(mark: Mark, **changes) -> dict:
    """Return the columns naming a mark's cell (competition, entrant, judge, criterion), changed."""
    keys = ("competition_id", "entrant_id", "judge_id", "criterion_id")
    return {**{k: getattr(mark, k) for k in keys}, **changes}


def _refused(statement=None):
    """Assert that flushing the session (or executing the statement) breaks a database rule."""
    with pytest.raises(sa.exc.IntegrityError):
        if statement is not None:
            db.session.execute(statement)
        db.session.flush()
    db.session.rollback()


# --- migrations ---


def _schema_differences(**opts) -> list:
    with db.engine.connect() as conn:
        return compare_metadata(MigrationContext.configure(conn, opts=opts), db.metadata)


def _same_default(
    context, inspected_column, metadata_column, inspected_default, metadata_default, rendered_metadata_default
):
    """Compare JSON defaults as text: PostgreSQL has no '=' for json, which alembic's check uses."""
    if isinstance(metadata_column.type, sa.JSON):

        def text(value):
            return (value or "").split("::")[0].strip("'\"")

        return text(inspected_default) != text(rendered_metadata_default)
    return None  # everything else: alembic's own comparison


def test_migrations_equal_the_models(app):
    assert _schema_differences(compare_type=True, compare_server_default=_same_default) == []


def test_database_is_at_the_single_head(app):
    config = app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
    with db.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_heads() == tuple(heads)


def test_sqlite_enforces_foreign_keys(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite pragma")
    assert db.session.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1


# --- uniqueness ---


def test_a_judge_marks_an_entrant_on_a_criterion_once(make_competition):
    mark = _any_mark(make_competition())
    db.session.add(Mark(**_cell(mark), value_cents=100))
    _refused()


def test_another_judge_may_mark_the_same_entrant_and_criterion(make_competition, make_user):
    mark = _any_mark(make_competition())
    other = make_user("judge-extra", "judge")
    db.session.add(Mark(**_cell(mark, judge_id=other.id), value_cents=100))
    db.session.flush()


@pytest.mark.parametrize("column", ["secret_code", "number", "ref"])
def test_entrant_fields_unique_within_a_competition(make_competition, column):
    competition = make_competition()
    e1, e2 = _entrants(competition)["E1"], _entrants(competition)["E2"]
    if getattr(e1, column) is None:
        setattr(e1, column, "A1B2C3" if column == "secret_code" else 7)
        db.session.flush()
    setattr(e2, column, getattr(e1, column))
    _refused()


@pytest.mark.parametrize("column, value", [("secret_code", "SAME42"), ("number", 7)])
def test_entrant_fields_may_repeat_across_competitions(make_competition, column, value):
    first, second = make_competition(), make_competition()
    setattr(_entrants(first)["E1"], column, value)
    setattr(_entrants(second)["E1"], column, value)
    db.session.flush()


def test_one_chief_judge_per_competition(make_competition):
    competition = make_competition()
    panel = _panel(competition)
    assert panel["J1"].is_chief and not panel["J2"].is_chief
    panel["J2"].is_chief = True
    _refused()


def test_each_competition_has_its_own_chief(make_competition):
    first, second = make_competition(), make_competition()
    assert _panel(first)["J1"].is_chief and _panel(second)["J1"].is_chief
    _panel(first)["J1"].is_chief = False
    _panel(first)["J3"].is_chief = True  # moving the chief is allowed
    db.session.flush()


# --- check constraints ---

CHECKS = [
    (User, "role", "superuser"),
    (Competition, "status", "finished"),
    (Competition, "kind", "exam"),
    (Competition, "year", 1800),
    (Entrant, "status", "cheating"),
    (Entrant, "time_seconds", -5),
    (Stage, "weight", Decimal("-1")),
    (Criterion, "max_value", Decimal("0")),
    (Criterion, "aggregation", "max"),
    (Criterion, "low_value", Decimal("1000")),  # the lowest mark lies below the maximum
    (Criterion, "worth", Decimal("0")),
]


@pytest.mark.parametrize("model, column, value", CHECKS, ids=lambda v: getattr(v, "__name__", str(v)))
def test_check_constraints(make_competition, model, column, value):
    make_competition()
    row_id = db.session.scalars(sa.select(model.id)).first()
    _refused(sa.update(model).where(model.id == row_id).values({column: value}))


@pytest.mark.parametrize(
    "model, column, value",
    [
        (Mark, "value_cents", 0),
        (Mark, "value_cents", -300),  # a signed scale (−3…+3): the criterion's range is checked on entry
        (Stage, "weight", Decimal("0")),
        (Competition, "status", "archived"),
        (User, "role", "admin"),
        (Entrant, "status", "withdrawn"),
    ],
)
def test_check_constraints_accept_edge_values(make_competition, model, column, value):
    make_competition()
    row_id = db.session.scalars(sa.select(model.id)).first()
    db.session.execute(sa.update(model).where(model.id == row_id).values({column: value}))
    db.session.flush()


# --- foreign keys ---


@pytest.mark.parametrize("column", ["entrant_id", "judge_id", "criterion_id", "competition_id"])
def test_a_mark_needs_existing_rows(make_competition, column):
    mark = _any_mark(make_competition())
    values = _cell(mark, **{column: 987654}, value_cents=100)
    db.session.execute(sa.delete(Mark).where(Mark.id == mark.id))
    _refused(sa.insert(Mark).values(**values))


def test_deleting_a_competition_removes_its_marks(make_competition):
    competition = make_competition()
    other = make_competition()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Mark)) == 2 * 10
    db.session.execute(sa.delete(Competition).where(Competition.id == competition.id))
    db.session.commit()
    counts = db.session.execute(sa.select(Mark.competition_id, sa.func.count()).group_by(Mark.competition_id)).all()
    assert counts == [(other.id, 10)]


# --- the append-only audit trail ---


def _mark_change(make_competition) -> MarkChange:
    mark = _any_mark(make_competition())
    change = MarkChange(**_cell(mark), old_cents=None, new_cents=100, reason="entered")
    db.session.add(change)
    db.session.commit()
    return change


def _audit_event(make_competition) -> AuditEvent:
    competition = make_competition()
    return db.session.scalars(sa.select(AuditEvent).where(AuditEvent.competition_id == competition.id)).one()


@pytest.mark.parametrize(
    "make_record, column, value",
    [
        (_mark_change, "new_cents", 200),
        (_mark_change, "reason", "rewritten"),
        (_audit_event, "action", "nothing.happened"),
        (_audit_event, "detail", {"forged": True}),
    ],
)
def test_audit_records_cannot_be_updated(make_competition, make_record, column, value):
    record = make_record(make_competition)
    before = getattr(record, column)
    setattr(record, column, value)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert getattr(db.session.get(type(record), record.id), column) == before


@pytest.mark.parametrize("make_record", [_mark_change, _audit_event])
def test_audit_records_cannot_be_deleted(make_competition, make_record):
    record = make_record(make_competition)
    db.session.delete(record)
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    assert db.session.get(type(record), record.id) is not None


def test_audit_records_can_be_added(make_competition):
    first = _mark_change(make_competition)
    db.session.add(MarkChange(**_cell(first), old_cents=100, new_cents=150, reason="corrected"))
    db.session.commit()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(MarkChange)) == 2


# --- the Scaled type ---


@pytest.mark.parametrize(
    "places, value",
    [
        (2, Decimal("35.5")),
        (2, Decimal("0.01")),
        (2, Decimal("99999999.99")),
        (2, Decimal("0")),
        (4, Decimal("12.3456")),
        (4, Decimal("1E-4")),
        (4, Decimal("70")),
    ],
)
def test_scaled_round_trips_exactly(places, value):
    column = Scaled(places)
    stored = column.process_bind_param(value, None)
    assert isinstance(stored, int)
    back = column.process_result_value(stored, None)
    assert back == value
    assert back.as_tuple().exponent == -places  # always the column's scale, e.g. 35.50


@pytest.mark.parametrize(
    "places, value",
    [
        (2, Decimal("0.001")),
        (2, Decimal("35.555")),
        (4, Decimal("0.00001")),
        (2, 0.1),
    ],
)
def test_scaled_refuses_finer_precision(places, value):
    with pytest.raises(ValueError, match="decimal places"):
        Scaled(places).process_bind_param(value, None)


def test_scaled_through_the_database(make_competition):
    competition = make_competition()
    stage = db.session.scalars(sa.select(Stage).where(Stage.competition_id == competition.id)).first()
    stage.weight = Decimal("33.3333")
    db.session.commit()
    stored = db.session.execute(sa.text("SELECT weight FROM stage WHERE id = :id"), {"id": stage.id}).scalar()
    assert stored == 333333
    db.session.expire_all()
    assert db.session.get(Stage, stage.id).weight == Decimal("33.3333")
    stage = db.session.get(Stage, stage.id)
    stage.weight = Decimal("33.33333")
    with pytest.raises(sa.exc.StatementError, match="decimal places"):
        db.session.flush()
    db.session.rollback()
