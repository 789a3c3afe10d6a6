"""The demo's workers, drawn deterministically from a seeded generator (no database here)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from comp.demo import data
from comp.idcard import check_digit

PHONE_PREFIXES = (
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "158",
    "159",
    "177",
    "180",
    "186",
    "188",
    "189",
)
BIRTH_YEARS = {1: (1968, 1980), 2: (1976, 1988), 3: (1984, 1996), 4: (1990, 2000), 5: (1995, 2004)}
MOSTLY_WOMEN = ("簪花妆造", "评茶员")


@dataclass(frozen=True)
class WorkerSpec:
    """One demo worker as the demo creates them and enters them in competitions."""

    key: str
    name: str
    id_number: str
    phone: str
    enterprise: str
    trade: str
    grade: int
    entries: tuple[str, ...] = ()
    mentor: str | None = None
    honours: tuple[tuple[str, int, str], ...] = ()

    @property
    def employer(self) -> str:
        """Return the full name of the worker's enterprise."""
        return data.ENTERPRISES[self.enterprise][0]


class _Draw:
    """Names, ID numbers and phones that never repeat, from one seeded generator."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.names: set[str] = set()
        self.ids: set[str] = set()

    def name(self, gender: str) -> str:
        """Return a new full name for the gender."""
        while True:
            name = self.rng.choice(data.SURNAMES) + self.rng.choice(data.GIVEN[gender])
            if name not in self.names:
                self.names.add(name)
                return name

    def id_number(self, region: str, year: int, gender: str) -> str:
        """Return a new valid ID number; the sequence digit is odd for men, even for women."""
        while True:
            born = date(year, 1, 1) + timedelta(days=self.rng.randrange(365))
            odd = 1 if gender == "M" else 0
            seq = self.rng.randrange(0, 100) * 10 + self.rng.randrange(odd, 10, 2)
            first17 = f"{region}{born:%Y%m%d}{seq:03d}"
            number = first17 + check_digit(first17)
            if number not in self.ids:
                self.ids.add(number)
                return number

    def phone(self) -> str:
        """Return a mobile number."""
        return self.rng.choice(PHONE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"

    def region(self, enterprise: str) -> str:
        """Return a birthplace's region code: mostly the enterprise's county, else another."""
        if self.rng.random() < 0.8:
            return data.COUNTIES[data.ENTERPRISES[enterprise][1]]
        return self.rng.choice(sorted(set(data.COUNTIES.values())))


def _birth_year(rng: random.Random, grade: int) -> int:
    """Older workers hold the higher grades (1 is the highest)."""
    return rng.randint(*BIRTH_YEARS[grade])


def workers(seed: int = data.SEED) -> list[WorkerSpec]:
    """Return every demo worker, featured ones first so mentors come before apprentices."""
    draw = _Draw(seed)
    draw.names.update(spec[0] for spec in data.FEATURED.values())
    draw.names.update(name for _, name, _ in data.ACCOUNTS.values())
    draw.names.update(name for name, _ in data.GUEST_JUDGES.values())
    out = []
    for key, spec in data.FEATURED.items():
        name, gender, year, enterprise, trade, grade, entries, mentor, honours = spec
        number = draw.id_number(draw.region(enterprise), year, gender)
        out.append(WorkerSpec(key, name, number, draw.phone(), enterprise, trade, grade, entries, mentor, honours))
    made: dict[tuple[str, str], int] = {}  # a trade may come twice for one enterprise: keys keep counting
    for enterprise, trade, count, grades, entries in data.GROUPS:
        first = made.get((enterprise, trade), 0)
        made[(enterprise, trade)] = first + count
        for i in range(first, first + count):
            gender = draw.rng.choice("FFM" if trade in MOSTLY_WOMEN else "MF")
            grade = draw.rng.choice(grades)
            number = draw.id_number(draw.region(enterprise), _birth_year(draw.rng, grade), gender)
            out.append(
                WorkerSpec(
                    f"{enterprise}.{trade}.{i + 1}",
                    draw.name(gender),
                    number,
                    draw.phone(),
                    enterprise,
                    trade,
                    grade,
                    entries,
                )
            )
    return out
