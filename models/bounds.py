"""What a request may name, checked in one place: whole numbers a table can hold, and the years
and dates the product tracks.

Ids: every id column is an INTEGER, which PostgreSQL holds up to 2**31 - 1 (a larger bound
value is a DataError there; SQLite cannot even bind one past 2**63 - 1: OverflowError). No row
has a larger id, so MAX_ID is 2**31 - 1 on both backends. Every route's `<int:…>` is views/__init__.IdConverter, which
refuses a larger one as it refuses letters (a 404, as for any missing row); an id, a version or
a page number in a form, a query string or an uploaded sheet goes through `whole_number`.

Years and dates: the product tracks budget years FIRST_YEAR…LAST_YEAR. A year or date outside
them names nothing and would overflow the date arithmetic behind every figure (the year's last
day, the month after a period), so `parse_year` and `parse_date` refuse it with a Chinese
message — BadArgument, which views/errors.py answers with a 400 — as they refuse a malformed one.
"""
from __future__ import annotations

import re
from datetime import date

MAX_ID = 2**31 - 1
FIRST_YEAR, LAST_YEAR = 2000, 2100
LABELS = {"year": "年度", "as_of": "截至日期"}

_DIGITS = re.compile(r"[0-9]+")         # str.isdigit() also takes "²", which int() refuses
_YEAR = re.compile(r"[0-9]{4}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class BadArgument(ValueError):
    """A year or date a request may not name; the message is Chinese and says what would do."""


def whole_number(value) -> int | None:
    """An id, version or page number from a form, a query string or a sheet: a whole number
    0…MAX_ID, else None (as for letters)."""
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_ID else None


def parse_year(raw, name: str = "year") -> int | None:
    """`2023` → 2023; None when blank; BadArgument when malformed or outside the tracked years."""
    if raw is None or raw == "":
        return None
    label = f"{LABELS.get(name, name)}（{name}）"
    if isinstance(raw, int) and not isinstance(raw, bool):
        year = raw
    elif isinstance(raw, str) and _YEAR.fullmatch(raw.strip()):
        year = int(raw)
    else:
        raise BadArgument(f"{label}应为四位数，例如 2023")
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise BadArgument(f"年度超出范围：{label}应在 {FIRST_YEAR} 到 {LAST_YEAR} 之间")
    return year


def parse_date(raw, name: str = "as_of") -> date | None:
    """`2023-07-31` → that date; None when blank; BadArgument when malformed, not a real day
    (2023-02-30) or outside the tracked years."""
    if raw is None or raw == "":
        return None
    label = f"{LABELS.get(name, name)}（{name}）"
    if isinstance(raw, date):
        day = raw
    else:
        try:
            if not (isinstance(raw, str) and _DATE.fullmatch(raw.strip())):
                raise ValueError(raw)
            day = date.fromisoformat(raw.strip())
        except ValueError:
            raise BadArgument(f"{label}应为 YYYY-MM-DD 格式的有效日期，例如 2023-07-31") from None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise BadArgument(f"日期超出范围：{label}应在 {FIRST_YEAR}-01-01 到 {LAST_YEAR}-12-31 之间")
    return day
