"""What the engine finds wrong, as (path, code, params): the application words each code.

The engine speaks no human language. A problem names where it is (a path into the
exchange format, e.g. ``rules.award_tiers[1].min``), what is wrong (a stable code such as
``min_order``) and the figures a sentence needs (``{"min": Decimal("90"), "above":
Decimal("85")}``). `comp.services.common.wording` turns the code into a sentence in the
user's language; the English in an exception's text is for developers only.
"""

from __future__ import annotations

from collections.abc import Iterable

Problem = tuple[str, str, dict[str, object]]
Problems = list[Problem]


class ProblemsError(ValueError):
    """Input the engine refuses; `problems` lists every (path, code, params) found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: Problems = list(problems)
        super().__init__("; ".join(f"{path}: {code}" for path, code, _params in self.problems))
