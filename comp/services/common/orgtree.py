"""The union tree as one in-memory map: counties of units, subtrees, and a user's scope.

City scale is a few thousand org units, so one SELECT of (id, parent, kind, name) answers
every "which county?" and "what lies under this union?" question of a request.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from comp.extensions import db
from comp.models import OrgUnit, User
from comp.permissions import city_wide


@dataclass(frozen=True)
class Node:
    id: int
    parent_id: int | None
    kind: str
    name: str


class Tree:
    """The org tree read in one query."""

    def __init__(self):
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

    def counties(self) -> list[Node]:
        """Return the county unions by name."""
        return sorted((n for n in self.nodes.values() if n.kind == "county"), key=lambda n: n.name)

    def enterprises(self, under: int | None = None) -> list[Node]:
        """Return the enterprises (of the whole city, or under one union) by name."""
        allowed = self.subtree(under) if under is not None else None
        return sorted((n for n in self.nodes.values() if n.kind == "enterprise"
                       and (allowed is None or n.id in allowed)), key=lambda n: n.name)


def scope(user: User, tree: Tree | None = None) -> set[int] | None:
    """Return the employer ids whose workers the organizer oversees, or None for the whole city."""
    if city_wide(user):
        return None
    if user.org_unit_id is None:
        return set()
    return (tree or Tree()).subtree(user.org_unit_id)
