"""The OData v2 dialect as Exact speaks it: filters, JSON values and paging.

Only the subset the brief documents is understood: ``eq ne gt ge lt le and or
not``, parentheses, the literals ``guid'…'``, ``datetime'…'``, ``'text'``,
``123L``, ``true``/``false``/``null`` and the functions ``trim`` and
``substringof``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote

Row = dict[str, Any]
Predicate = Callable[[Row], Any]


class ODataError(Exception):
    """A query the emulator (like Exact) refuses, with the HTTP status to send."""

    def __init__(self, message: str, status: int = 400) -> None:
        self.status = status
        super().__init__(message)


_TOKEN = re.compile(
    r"\s*(?:(?P<lit>(?:guid|datetime)'[^']*'|'(?:[^']|'')*')"
    r"|(?P<num>-?\d+(?:\.\d+)?[LlMmDd]?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_/]*)"
    r"|(?P<punct>[(),]))"
)
_COMPARE = {
    "eq": lambda a, b: a == b,
    "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


def _tokens(text: str) -> list[str]:
    found: list[str] = []
    pos = 0
    while pos < len(text.rstrip()):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            raise ODataError("Bad Request - Error in query syntax.")
        found.append(match.group(match.lastgroup or 0))
        pos = match.end()
    return found


def parse_literal(token: str) -> Any:
    """The Python value of one OData literal."""
    if token.startswith("guid'"):
        return token[5:-1].lower()
    if token.startswith("datetime'"):
        return datetime.fromisoformat(token[9:-1])
    if token.startswith("'"):
        return token[1:-1].replace("''", "'")
    if token[-1] in "LlMmDd":
        token = token[:-1]
    return Decimal(token) if "." in token else int(token)


class _Parser:
    """Recursive descent over the tokens of a ``$filter``."""

    def __init__(self, text: str, fields: set[str]) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.fields = fields
        self.used: set[str] = set()

    def parse(self) -> Predicate:
        predicate = self._or()
        if self.pos != len(self.tokens):
            raise ODataError("Bad Request - Error in query syntax.")
        return predicate

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> str:
        token = self._peek()
        if token is None or (expected is not None and token != expected):
            raise ODataError("Bad Request - Error in query syntax.")
        self.pos += 1
        return token

    def _or(self) -> Predicate:
        choices = [self._and()]
        while self._peek() == "or":
            self._take()
            choices.append(self._and())
        equals = [c for c in choices if isinstance(c, _Equals)]
        if len(choices) > 1 and len(equals) == len(choices):
            field = equals[0].field
            if all(c.field == field for c in equals):
                # A batch of "F eq x or F eq y ...": one set lookup per row.
                values: set[Any] = {c.value for c in equals}
                return lambda row: row.get(field) in values
        left = choices[0]
        for right in choices[1:]:
            left = _either(left, right)
        return left

    def _and(self) -> Predicate:
        left = self._not()
        while self._peek() == "and":
            self._take()
            left = _both(left, self._not())
        return left

    def _not(self) -> Predicate:
        if self._peek() == "not":
            self._take()
            inner = self._not()
            return lambda row: not inner(row)
        return self._compare()

    def _compare(self) -> Predicate:
        left = self._operand()
        op = self._peek()
        if op not in _COMPARE:
            return left
        self._take()
        right, check = self._operand(), _COMPARE[op]

        def predicate(row: Row) -> Any:
            return check(*_comparable(left(row), right(row)))

        plain = isinstance(right, _Literal) and type(right.value) in (str, int)
        if op == "eq" and plain and isinstance(left, _Field):
            assert isinstance(right, _Literal)
            return _Equals(left.name, right.value, predicate)
        return predicate

    def _operand(self) -> Predicate:
        token = self._take()
        if token == "(":
            inner = self._or()
            self._take(")")
            return inner
        if token in ("true", "false", "null"):
            value = {"true": True, "false": False, "null": None}[token]
            return lambda row: value
        if "'" in token or not (token[0].isalpha() or token[0] == "_"):
            return _Literal(parse_literal(token))
        if self._peek() == "(":
            return self._function(token)
        if token not in self.fields:
            raise ODataError("Bad Request - Error in query syntax.")
        self.used.add(token)
        return _Field(token)

    def _function(self, name: str) -> Predicate:
        self._take("(")
        args = [self._or()]
        while self._peek() == ",":
            self._take()
            args.append(self._or())
        self._take(")")
        if name == "trim" and len(args) == 1:
            return lambda row: str(args[0](row) or "").strip()
        if name == "substringof" and len(args) == 2:
            return lambda row: str(args[0](row)) in str(args[1](row) or "")
        raise ODataError("Bad Request - Error in query syntax.")


class _Field:
    """A field of the row, by name."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, row: Row) -> Any:
        return row.get(self.name)


class _Literal:
    """A constant of the filter."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def __call__(self, row: Row) -> Any:
        return self.value


class _Equals:
    """``Field eq literal`` (text or whole number), recognisable in an or-chain."""

    def __init__(self, field: str, value: str | int, predicate: Predicate) -> None:
        self.field = field
        self.value = value
        self.predicate = predicate

    def __call__(self, row: Row) -> Any:
        return self.predicate(row)


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) or b(row)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda row: a(row) and b(row)


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Let a date field be compared with a ``datetime'…'`` literal."""
    if isinstance(a, date) and not isinstance(a, datetime):
        a = datetime(a.year, a.month, a.day)
    if isinstance(b, date) and not isinstance(b, datetime):
        b = datetime(b.year, b.month, b.day)
    if isinstance(a, bool) or isinstance(b, bool):
        return a, b
    if isinstance(a, int | Decimal | float) and isinstance(b, int | Decimal | float):
        return Decimal(str(a)), Decimal(str(b))
    return a, b


def compile_filter(text: str, fields: Iterable[str]) -> tuple[Predicate, set[str]]:
    """A row predicate for ``$filter`` and the field names it uses."""
    parser = _Parser(text, set(fields))
    return parser.parse(), parser.used


def to_json(value: Any) -> Any:
    """One Python value as Exact puts it in JSON."""
    if isinstance(value, datetime):
        epoch = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return f"/Date({int(epoch.timestamp() * 1000)})/"
    if isinstance(value, date):
        midnight = datetime(value.year, value.month, value.day, tzinfo=UTC)
        return f"/Date({int(midnight.timestamp() * 1000)})/"
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def literal_for(value: Any) -> str:
    """The OData literal that names ``value`` in a ``$skiptoken``."""
    if isinstance(value, int):
        return f"{value}L"
    return f"guid'{value}'"


def next_link(base: str, args: dict[str, str], last_key: Any, top: int | None) -> str:
    """The absolute ``__next`` URL: the same query plus a ``$skiptoken``."""
    query = {k: v for k, v in args.items() if k not in ("$skiptoken", "$top")}
    if top is not None:
        query["$top"] = str(top)
    query["$skiptoken"] = literal_for(last_key)
    encoded = "&".join(f"{k}={quote(v, safe=',()')}" for k, v in query.items())
    return f"{base}?{encoded}"
