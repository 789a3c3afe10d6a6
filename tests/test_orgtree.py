"""The union tree behind every ownership check: read once per transaction, current after a change."""

from __future__ import annotations

import sqlalchemy as sa

from comp.extensions import db
from comp.permissions import can


def test_ownership_follows_the_tree_when_a_unit_moves(tree, make_user, make_worker):
    organizer = make_user("jj", "organizer", org_unit_id=tree.jinjiang.id)
    worker = make_worker("王五", employer_id=tree.aviation.id)
    assert can("worker.manage", worker, organizer)
    tree.aviation.parent_id = tree.shishi.id  # the enterprise moves to another county
    db.session.flush()
    assert not can("worker.manage", worker, organizer)
    db.session.rollback()
    assert can("worker.manage", worker, organizer)


def test_a_list_of_checks_reads_the_tree_once(tree, make_user, make_worker):
    organizer = make_user("jj", "organizer", org_unit_id=tree.jinjiang.id)
    workers = [make_worker(f"工人{n}", employer_id=(tree.aviation if n % 2 else tree.garment).id) for n in range(20)]
    db.session.commit()
    for w in workers:
        w.employer_id  # noqa: B018  loaded before counting
    statements = []

    def record(_conn, _cursor, statement, *_args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", record)
    try:
        seen = [can("worker.profile", w, organizer) for w in workers]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", record)
    assert seen == [n % 2 == 1 for n in range(20)]
    assert len([s for s in statements if "FROM org_unit" in s]) == 1
    assert len(statements) <= 2  # the tree, and the organizer reloaded after the commit


def test_a_union_just_assigned_counts_before_the_flush(tree, make_user, make_competition):
    from comp.models import Competition

    organizer = make_user("jj", "organizer", org_unit_id=tree.jinjiang.id)
    competition = Competition(code="X-1", name="未保存", kind="competition", year=2026)
    competition.organizer_unit = tree.shishi  # not flushed: the id column is still empty
    assert not can("competition.manage", competition, organizer)
    competition.organizer_unit = tree.jinjiang
    assert can("competition.manage", competition, organizer)
