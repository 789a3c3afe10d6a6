"""Transactions compose: only the outermost `transaction()` commits, an inner one is a savepoint."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from comp.extensions import db
from comp.models import OrgUnit
from comp.services import in_transaction, transaction


def _names_seen_from_another_connection() -> set[str]:
    with db.engine.connect() as other:
        return set(other.scalars(sa.select(OrgUnit.name)))


def _add(name: str) -> None:
    db.session.add(OrgUnit(kind="city", name=name))
    db.session.flush()


def test_the_outer_block_commits_and_the_inner_does_not():
    with transaction():
        with transaction():
            _add("内层")
        assert in_transaction()
        assert "内层" not in _names_seen_from_another_connection()
    assert not in_transaction()
    assert "内层" in _names_seen_from_another_connection()


def test_a_failure_after_an_inner_block_rolls_back_the_inner_work_too():
    with pytest.raises(RuntimeError):
        with transaction():
            with transaction():
                _add("内层")
            raise RuntimeError("injected")
    assert not in_transaction()
    assert _names_seen_from_another_connection() == set()
    assert db.session.scalars(sa.select(OrgUnit.name)).all() == []


def test_an_inner_failure_the_outer_block_catches_undoes_only_the_inner_work():
    with transaction():
        _add("外层")
        try:
            with transaction():
                _add("内层")
                raise RuntimeError("injected")
        except RuntimeError:
            pass
        _add("之后")
    assert _names_seen_from_another_connection() == {"外层", "之后"}


def test_blocks_in_a_row_each_commit():
    with transaction():
        _add("一")
    with pytest.raises(RuntimeError):
        with transaction():
            _add("二")
            raise RuntimeError("injected")
    with transaction():
        _add("三")
    assert _names_seen_from_another_connection() == {"一", "三"}


def test_three_levels_deep_a_failure_at_the_bottom_reaches_the_top():
    with pytest.raises(RuntimeError):
        with transaction():
            _add("一")
            with transaction():
                _add("二")
                with transaction():
                    _add("三")
                    raise RuntimeError("injected")
    assert _names_seen_from_another_connection() == set()
    assert not in_transaction()
