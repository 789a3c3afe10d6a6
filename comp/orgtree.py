"""The union tree as one in-memory map: counties of units, subtrees, lineages.

City scale is a few thousand org units, so one SELECT of (id, parent, kind, name) answers
every "which county?", "what lies under this union?" and "is this union above that one?"
question of a request. `current()` reads it once per transaction, and again after a flush that
changed an org unit.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
import sqlalchemy.orm  # noqa: F401  (sa.orm.Session for the events)

from comp.extensions import db
from comp.models import OrgUnit

_KEY = "org_tree"


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    kind: str
    name: str


class Tree:
    """The org tree read in one query."""

    def __init__(self) -> None:
        rows = db.session.execute(sa.select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.name))
        self.nodes = {r.id: Node(r.id, r.parent_id, r.kind, r.name) for r in rows}
        self.children: dict[int | None, list[int]] = {}
        for node in self.nodes.values():
            self.children.setdefault(node.parent_id, []).append(node.id)

    def county_of(self, unit_id: int | None) -> Node | None:
        """Return the county union above (or at) the unit, if any."""
        node = self.nodes.get(unit_id)
        seen = 0
        while node is not None and node.kind != "county" and seen < 64:
            node = self.nodes.get(node.parent_id)
            seen += 1
        return node if node is not None and node.kind == "county" else None

    def subtree(self, unit_id: int) -> set[int]:
        """Return the unit's id and the ids of every unit below it."""
        found, todo = set(), [unit_id]
        while todo:
            current = todo.pop()
            if current in found:
                continue
            found.add(current)
            todo.extend(self.children.get(current, ()))
        return found

    def lineage(self, unit_id: int | None) -> list[int]:
        """Return the unit's id and its ancestors' ids, nearest first."""
        chain: list[int] = []
        node = self.nodes.get(unit_id) if unit_id is not None else None
        while node is not None and len(chain) < 64:
            chain.append(node.id)
            node = self.nodes.get(node.parent_id) if node.parent_id is not None else None
        return chain

    def is_within(self, unit_id: int | None, union_id: int) -> bool:
        """Tell whether the unit is the union itself or lies below it."""
        return union_id in self.lineage(unit_id)

    def kind_of(self, unit_id: int | None) -> str | None:
        """Return the unit's kind (city, county, enterprise), None when there is no such unit."""
        node = self.nodes.get(unit_id) if unit_id is not None else None
        return node.kind if node is not None else None

    def counties(self) -> list[Node]:
        """Return the county unions by name."""
        return sorted((n for n in self.nodes.values() if n.kind == "county"), key=lambda n: n.name)

    def enterprises(self, under: int | None = None) -> list[Node]:
        """Return the enterprises (of the whole city, or under one union) by name."""
        allowed = self.subtree(under) if under is not None else None
        return sorted(
            (n for n in self.nodes.values() if n.kind == "enterprise" and (allowed is None or n.id in allowed)),
            key=lambda n: n.name,
        )


def current() -> Tree:
    """Return the tree of this database transaction, read once and again after an org unit changes."""
    info = db.session().info
    tree = info.get(_KEY)
    if tree is None:
        tree = info[_KEY] = Tree()
    return tree


@sa.event.listens_for(sa.orm.Session, "after_flush")
def _forget_on_change(session: sa.orm.Session, _context: object) -> None:
    if any(isinstance(o, OrgUnit) for o in (*session.new, *session.dirty, *session.deleted)):
        session.info.pop(_KEY, None)


@sa.event.listens_for(sa.orm.Session, "after_commit")
@sa.event.listens_for(sa.orm.Session, "after_rollback")
def _forget_at_transaction_end(session: sa.orm.Session) -> None:
    # Like the ORM's expire-on-commit: the next transaction may see what other processes wrote.
    session.info.pop(_KEY, None)
