"""The CSV source: an open-items export read as a snapshot, and a journal beside it.

Every pull reads the whole file; its SHA-256 is the cursor. The invoices listed are
all there are (``complete_snapshot``), so an invoice that drops out of the export
has left the open list: an open-items export leaves paid invoices out. Notes and
tasks go to the journal CSV (see ``adapters.csv.journal``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path

from pydantic import field_validator

from adapters.base import AdapterOptions, Changes, Note, SourceContext, Task
from adapters.csv.journal import Journal, JournalEntry
from adapters.csv.mapping import OpenItems, decode_text, read_open_items
from connector.domain import Invoice, InvoiceStatus
from connector.errors import FatalSourceError


class CsvOptions(AdapterOptions):
    """The settings of a CSV source in the policy.

    ``path`` is the open-items export; ``journal`` is where notes and tasks go
    (default: ``<stem>.journal.csv`` beside the export); ``delimiter`` skips the
    detection. Relative paths are taken from the working directory.
    """

    path: str
    journal: str | None = None
    delimiter: str | None = None

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("the delimiter is one character, such as ',' or ';'")
        return value


class CsvAdapter:
    """Reads an open-items CSV and writes notes and tasks to a journal CSV."""

    Options = CsvOptions

    def __init__(
        self,
        path: Path,
        journal: Journal,
        now: Callable[[], datetime],
        delimiter: str | None = None,
    ) -> None:
        self.path = path
        self.journal = journal
        self.delimiter = delimiter
        self._now = now

    @classmethod
    def create(cls, options: CsvOptions, context: SourceContext) -> CsvAdapter:
        """The adapter for a source; the journal defaults to ``<stem>.journal.csv``."""
        base = Path(context.base_dir)
        path = base / options.path  # an absolute path stays as it is
        journal_name = options.journal or path.with_name(f"{path.stem}.journal.csv")
        journal = base / journal_name
        return cls(path, Journal(journal), context.now, options.delimiter)

    def pull_changes(self, cursor: str | None, known: Mapping[str, str]) -> Changes:
        """The whole file as a complete snapshot; rows that cannot be used are skipped.

        The file is read even when ``cursor`` equals its hash: the core compares.
        """
        data = self._read_bytes()
        items = self._parse(data)
        return Changes(
            cursor=hashlib.sha256(data).hexdigest(),
            debtors=items.debtors,
            invoices=items.invoices,
            complete_snapshot=True,
            skipped=items.skipped,
        )

    def confirm_invoices(
        self, keys: Sequence[str]
    ) -> Mapping[str, Invoice | InvoiceStatus]:
        """Re-read the file: each key maps to its fresh invoice, or to PAID.

        An invoice no longer listed, or listed with nothing open, is paid. A key
        whose row is now broken is left out of the answer: it can be confirmed
        neither open nor paid, so nothing should be done about it.
        """
        items = self._parse(self._read_bytes())
        fresh = {invoice.key: invoice for invoice in items.invoices}
        broken = {key for key, _ in items.skipped}
        confirmed: dict[str, Invoice | InvoiceStatus] = {}
        for key in keys:
            invoice = fresh.get(key)
            if invoice is not None:
                confirmed[key] = invoice if invoice.is_open else invoice.status
            elif key not in broken:
                confirmed[key] = InvoiceStatus.PAID
        return confirmed

    def write_note(self, note: Note) -> str:
        """Append the note to the journal, unless its key is there already."""
        return self.journal.append(
            JournalEntry(
                written_at=self._written_at(),
                kind="note",
                key=note.key,
                debtor_id=note.debtor_key,
                invoice_ids=note.invoice_keys,
                text=note.text,
            )
        )

    def create_task(self, task: Task) -> str:
        """Append the task to the journal, unless its key is there already."""
        return self.journal.append(
            JournalEntry(
                written_at=self._written_at(),
                kind="task",
                key=task.key,
                debtor_id=task.debtor_key,
                invoice_ids=task.invoice_keys,
                text=task.text,
                assignee=task.assignee or "",
                due_on=task.due_on.isoformat() if task.due_on else "",
            )
        )

    def close(self) -> None:
        """Nothing to release: every call opens and closes its own files."""

    def _read_bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except FileNotFoundError as exc:
            raise FatalSourceError(f"{self.path}: open-items file not found") from exc
        except OSError as exc:
            raise FatalSourceError(f"{self.path}: cannot read: {exc}") from exc

    def _parse(self, data: bytes) -> OpenItems:
        try:
            return read_open_items(decode_text(data), self.delimiter)
        except FatalSourceError as exc:
            raise FatalSourceError(f"{self.path}: {exc}") from exc

    def _written_at(self) -> str:
        return self._now().isoformat(timespec="seconds")
