"""Column types that keep decimals exact on every database."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import overload

import sqlalchemy as sa


class Scaled(sa.types.TypeDecorator):
    """Store a Decimal as an integer count of 10**-places, exact on SQLite and PostgreSQL."""

    impl = sa.BigInteger
    cache_ok = True

    def __init__(self, places: int = 2):
        super().__init__()
        self.places = places
        self.factor = 10**places

    def process_bind_param(self, value, dialect):
        """Turn a Decimal into its scaled integer, refusing finer precision."""
        if value is None:
            return None
        scaled = Decimal(value) * self.factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.places} decimal places")
        return int(scaled)

    def process_result_value(self, value, dialect):
        """Turn the stored integer back into a Decimal."""
        if value is None:
            return None
        return Decimal(value).scaleb(-self.places)

    def copy(self, **kw):
        """Copy the type with its scale."""
        return Scaled(self.places)


def utcnow() -> datetime:
    """Return the current UTC time, naive, as stored in every timestamp column."""
    return datetime.now(UTC).replace(tzinfo=None)


@overload
def plain(value: Decimal) -> str: ...
@overload
def plain(value: None) -> None: ...
@overload
def plain(value: Decimal | None) -> str | None: ...
def plain(value: Decimal | None) -> str | None:
    """Format a Decimal without exponent or trailing zeros ("30", "35.5")."""
    if value is None:
        return None
    text = format(value.normalize(), "f")
    return text
