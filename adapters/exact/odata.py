"""Reading and writing Exact's OData v2 values: envelopes, dates, literals."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.domain import is_amount, is_day
from connector.errors import FatalSourceError, RecordError

_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")

Row = dict[str, Any]


def unwrap(body: Any) -> tuple[list[Row], str | None]:
    """The rows and the ``__next`` link of a response, whatever shape ``d`` has.

    ``d`` comes as ``{"results": [...]}`` for lists, as a bare array for empty
    lists, and as one object for a single entity or a POST answer.
    """
    if not isinstance(body, dict) or "d" not in body:
        raise FatalSourceError("Exact Online answered without an OData envelope")
    data = body["d"]
    if isinstance(data, list):
        return data, None
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        return data["results"], data.get("__next")
    if isinstance(data, dict) and isinstance(data.get(""), list):
        return data[""], None
    if isinstance(data, dict):
        return [data], None
    raise FatalSourceError("Exact Online answered with an unexpected OData envelope")


def _epoch_ms(value: Any) -> int:
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        raise RecordError(f"not an OData date: {value!r}")
    return int(match.group(1))


def parse_date(value: Any) -> date | None:
    """A date-only field: ``/Date(ms)/`` is midnight UTC of the calendar date."""
    if value is None:
        return None
    try:
        since = timedelta(milliseconds=_epoch_ms(value))
        day = (datetime(1970, 1, 1, tzinfo=UTC) + since).date()
    except OverflowError:
        day = None
    if day is None or not is_day(day):
        raise RecordError(f"date out of range: {value!r}")
    return day


def parse_local(value: Any) -> datetime | None:
    """``Created``/``Modified``: Exact's wall-clock time, encoded as if UTC."""
    if value is None:
        return None
    try:
        return datetime(1970, 1, 1) + timedelta(milliseconds=_epoch_ms(value))
    except OverflowError:
        raise RecordError(f"date out of range: {value!r}") from None


def parse_amount(value: Any) -> Decimal:
    """A JSON number (already ``Decimal`` or ``int`` when parsed by the client)."""
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, TypeError) as exc:
        raise RecordError(f"not an amount: {value!r}") from exc
    if isinstance(value, bool) or not is_amount(amount):
        raise RecordError(f"not an amount: {value!r}")
    return amount


def text(value: Any) -> str:
    """A string field, trimmed: Exact pads codes, countries and languages."""
    return "" if value is None else str(value).strip()


def guid(value: str) -> str:
    """A ``guid'…'`` literal; refuses anything that is not a GUID."""
    return f"guid'{uuid.UUID(value)}'"


def quoted(value: str) -> str:
    """A string literal, with quotes doubled."""
    return "'" + value.replace("'", "''") + "'"


def iso(moment: date | datetime) -> str:
    """A date or time as Exact wants it in request bodies."""
    if isinstance(moment, datetime):
        return moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return moment.isoformat()
