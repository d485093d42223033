"""The journal: an append-only CSV where a CSV source keeps its notes and tasks.

A package that only exports open items cannot take notes back, so the connector
writes them beside the export, one row each, with the columns in ``COLUMNS``. The
id of an entry is ``journal:<row>``, the row number a spreadsheet shows (the header
is row 1). Entries are unique by key: appending a key that is already there returns
the id it already has. A row torn by a crash during its write is cut off before the
next append, so the file never holds half an entry before a whole one.

Appends take an exclusive ``flock`` on the file, so workers on one machine can
share a journal; the lock is POSIX-only.
"""

from __future__ import annotations

import codecs
import csv
import fcntl
import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from connector.errors import FatalSourceError

COLUMNS = (
    "written_at",
    "kind",
    "key",
    "debtor_id",
    "invoice_ids",
    "assignee",
    "due_on",
    "text",
)
_KEY = COLUMNS.index("key")
_FIRST_ROW = 2  # the header is row 1


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One note or task as the journal stores it."""

    written_at: str
    kind: str
    key: str
    debtor_id: str
    invoice_ids: tuple[str, ...]
    text: str
    assignee: str = ""
    due_on: str = ""

    def as_row(self) -> list[str]:
        """The entry's values in the order of ``COLUMNS``."""
        return [
            self.written_at,
            self.kind,
            self.key,
            self.debtor_id,
            ";".join(self.invoice_ids),
            self.assignee,
            self.due_on,
            self.text,
        ]


@dataclass(frozen=True, slots=True)
class _Scan:
    """The whole rows of a journal file, and where the last of them ends."""

    rows: list[list[str]]
    end: int


class Journal:
    """An append-only CSV file of notes and tasks, unique by key."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def append(self, entry: JournalEntry) -> str:
        """Write the entry unless its key is there; return the entry's id."""
        try:
            with _locked(self.path) as handle:
                return self._append_locked(handle, entry)
        except OSError as exc:
            raise FatalSourceError(f"{self.path}: cannot write: {exc}") from exc

    def _append_locked(self, handle: BinaryIO, entry: JournalEntry) -> str:
        handle.seek(0)
        data = handle.read()
        scan = _scan(data, self.path)
        existing = _id_of(scan.rows, entry.key)
        if existing is not None:
            return existing

        if scan.end < len(data):
            handle.truncate(scan.end)
        chunk = b"" if scan.rows else codecs.BOM_UTF8 + _encode(list(COLUMNS))
        handle.write(chunk + _encode(entry.as_row()))
        handle.flush()
        os.fsync(handle.fileno())
        return _entry_id(max(len(scan.rows) - 1, 0))


@contextmanager
def _locked(path: Path) -> Iterator[BinaryIO]:
    """The journal opened for appending, under an exclusive lock until closed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield handle


def _scan(data: bytes, path: Path) -> _Scan:
    """Parse the whole rows of a journal; a torn last row is left out."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    lines = data[start:].splitlines(keepends=True)
    consumed = start
    rows: list[list[str]] = []
    end = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        for line in lines:
            consumed += len(line)
            yield line.decode("utf-8", errors="replace")

    try:
        for row in csv.reader(feed(), strict=True):
            if data[consumed - 1 : consumed] not in (b"\n", b"\r"):
                break  # written without its line end: torn
            rows.append(row)
            end = consumed
    except csv.Error:
        pass  # a quoted field still open at the end of the file: torn
    if rows and tuple(rows[0]) != COLUMNS:
        raise FatalSourceError(f"{path}: not a journal; expected {', '.join(COLUMNS)}")
    return _Scan(rows, end)


def _id_of(rows: list[list[str]], key: str) -> str | None:
    for index, row in enumerate(rows[1:]):
        if len(row) > _KEY and row[_KEY] == key:
            return _entry_id(index)
    return None


def _entry_id(index: int) -> str:
    """The id of the data row at this index (0 for the first after the header)."""
    return f"journal:{index + _FIRST_ROW}"


def _encode(row: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(row)
    return buffer.getvalue().encode("utf-8")
