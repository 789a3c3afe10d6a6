"""Can the pool fill the blueprint: item classes, and the maximum flow that allocates them to sections in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence

from comp.exams.types import Item, Section

__all__ = ["ClassKey", "Network", "allocation", "class_of", "fits", "safe", "supply"]

ClassKey = tuple[str, str, int]  # (kind, area, difficulty): items of one class are interchangeable for every section


def fits(section: Section, key: ClassKey) -> bool:
    """Tell whether items of class `key` may fill `section`."""
    kind, area, difficulty = key
    return (
        section.kind == kind
        and (not section.area or section.area == area)
        and (section.difficulty is None or section.difficulty == difficulty)
    )


def class_of(item: Item) -> ClassKey:
    """Return the item's class."""
    return (item.kind, item.area, item.difficulty)


class Network:
    """A bipartite flow network: demands (sections) on one side, item classes with their supply on the other."""

    def __init__(self, supply: Mapping[ClassKey, int]) -> None:
        self.keys = sorted(supply)
        # node 0 is the source, 1 the sink, 2.. the classes, then the demands as they are added
        self.cap: list[dict[int, int]] = [{}, {}]
        for key in self.keys:
            self.cap.append({1: supply[key]})
            self.cap[1][len(self.cap) - 1] = 0

    def add_demand(self, section: Section, demand: int) -> int:
        """Add a demand node and return by how much the maximum flow grows (what this demand can get)."""
        node = len(self.cap)
        self.cap.append({})
        self.cap[0][node] = demand
        self.cap[node][0] = 0
        for index, key in enumerate(self.keys):
            if fits(section, key):
                self.cap[node][index + 2] = demand
                self.cap[index + 2][node] = 0
        return self._augment()

    def _augment(self) -> int:
        grown = 0
        while True:
            parent = {0: 0}
            queue = deque([0])
            while queue and 1 not in parent:
                u = queue.popleft()
                for v, capacity in self.cap[u].items():
                    if capacity > 0 and v not in parent:
                        parent[v] = u
                        queue.append(v)
            if 1 not in parent:
                return grown
            path = [1]
            while path[-1] != 0:
                path.append(parent[path[-1]])
            edges = [(path[k + 1], path[k]) for k in range(len(path) - 1)]
            bottleneck = min(self.cap[u][v] for u, v in edges)
            for u, v in edges:
                self.cap[u][v] -= bottleneck
                self.cap[v][u] += bottleneck
            grown += bottleneck


def supply(items: Iterable[Item]) -> dict[ClassKey, int]:
    """Return how many items of each class there are."""
    counts: dict[ClassKey, int] = {}
    for item in items:
        counts[class_of(item)] = counts.get(class_of(item), 0) + 1
    return counts


def allocation(sections: Sequence[Section], demands: Sequence[int], supply: Mapping[ClassKey, int]) -> list[int]:
    """Return how many items each section gets when they are filled in order, each as fully as it can be."""
    network = Network(supply)
    return [network.add_demand(section, demand) for section, demand in zip(sections, demands)]


def safe(sections: Sequence[Section], demands: list[int], supply: dict[ClassKey, int], i: int, key: ClassKey) -> bool:
    """Tell whether section i may take an item of class `key` and every section still be filled."""
    later = sum(demands[j] for j in range(i + 1, len(sections)) if fits(sections[j], key))
    if supply[key] - 1 >= later:
        return True  # the later sections could all be served from this class alone
    rest = dict(supply)
    rest[key] -= 1
    wanted = [demands[i] - 1, *demands[i + 1 :]]
    return allocation(sections[i:], wanted, rest) == wanted
