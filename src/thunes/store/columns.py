"""Column types that keep money exact and time in UTC inside SQLite.

Decimals are stored as TEXT (`str(Decimal)`), so nothing ever passes through a float.
Datetimes are stored as fixed-width ISO-8601 UTC text with microseconds, so they compare
correctly as strings in SQL range queries. Naive datetimes are refused: a time without a zone
is a bug waiting to happen.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.types import String, TypeDecorator


class DecimalText(TypeDecorator[Decimal]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            raise TypeError(f"money and quantities must be Decimal, got {type(value).__name__}")
        if not value.is_finite():
            raise ValueError(f"refusing to store non-finite decimal {value}")
        return str(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


def format_utc(value: datetime) -> str:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"refusing a naive datetime {value!r}; THUNES stores UTC-aware times")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


class UTCDateTime(TypeDecorator[datetime]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else format_utc(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.fromisoformat(value).astimezone(UTC)


class DateText(TypeDecorator[date]):
    impl = String
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else value.isoformat()

    def process_result_value(self, value: Any, dialect: Dialect) -> date | None:
        return None if value is None else date.fromisoformat(value)
