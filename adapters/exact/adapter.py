"""The Exact Online adapter: the connector's protocol on top of the resources.

A pull reads three sync feeds from the stored Timestamps: payment terms
(customer lines only), accounts, and deletions. Entries whose terms changed are
re-read whole, since a partial payment touches only some of their terms. Every
``full_reconcile_days`` (and on the first pull) the open-items list is taken as
a complete snapshot. The division comes from the options and is in every
request path; the user's current division in Exact is never consulted.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import requests
from pydantic import Field, field_validator

from adapters.base import AdapterOptions, Changes, Note, SourceContext, Task
from adapters.exact import mapping
from adapters.exact.client import HOSTS, ExactClient, OutcomeUnknown, base_url_for
from adapters.exact.odata import Row, iso, text
from adapters.exact.resources import (
    CUSTOMER_LINE,
    DELETED_SALES_INVOICE,
    DELETED_TERM,
    Resources,
)
from adapters.exact.tokens import TokenManager
from connector.domain import Debtor, Invoice, InvoiceStatus
from connector.errors import ConfigError, RecordError

NOTE_DOCUMENT_TYPE = 55  # "Other"; unverified against a real administration
# The brief names only type 10, "Sales invoice", which a reminder is not.
LETTER_DOCUMENT_TYPE = NOTE_DOCUMENT_TYPE


class ExactOptions(AdapterOptions):
    """The settings of an Exact Online source in ``dunning.yaml``."""

    division: int = Field(gt=0, description="the administration's division code")
    country: str = "nl"
    base_url: str | None = None  # overrides the country's host (the emulator)
    client_id_secret: str = "EXACT_CLIENT_ID"
    client_secret_secret: str = "EXACT_CLIENT_SECRET"
    full_reconcile_days: int = Field(7, ge=1)
    note_documents: bool = False
    letter_documents: bool = False  # keep each sent PDF letter on the account
    read_timeout_s: float = Field(60.0, gt=0)  # per request, not per page
    # As registered for the app in Exact's App Center; loopback is caught locally.
    redirect_uri: str = "http://127.0.0.1:8765/callback"

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str) -> str:
        if value.lower() not in HOSTS:
            raise ValueError(f"unknown country; choose one of {', '.join(HOSTS)}")
        return value.lower()

    def host(self) -> str:
        return (self.base_url or base_url_for(self.country)).rstrip("/")


@dataclass(frozen=True)
class SyncCursor:
    """Where each sync feed stopped, and when the last full reconcile ran."""

    terms: int = 0
    accounts: int = 0
    deleted: int = 0
    reconciled: str | None = None  # ISO date

    @classmethod
    def loads(cls, text: str | None) -> SyncCursor:
        if not text:
            return cls()
        try:
            return cls(**json.loads(text))
        except (ValueError, TypeError):
            return cls()  # an unreadable cursor means: start again, fully

    def dumps(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _aware(now: Callable[[], datetime]) -> Callable[[], datetime]:
    def utc() -> datetime:
        moment = now()
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment

    return utc


class ExactAdapter:
    """One Exact Online division as a source."""

    Options: ClassVar[type[ExactOptions]] = ExactOptions

    def __init__(
        self,
        options: ExactOptions,
        resources: Resources,
        tokens: TokenManager,
        now: Callable[[], datetime],
    ) -> None:
        self.options = options
        self.resources = resources
        self.tokens = tokens
        self.now = now
        self._numbers: dict[str, str] = {}
        self._skipped_accounts: list[tuple[str, str]] = []

    @classmethod
    def create(
        cls,
        options: ExactOptions,
        context: SourceContext,
        *,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ExactAdapter:
        """Wire tokens, client and resources for a source."""
        if context.store is None:
            raise ConfigError(f"source {context.name!r}: Exact needs the state store")
        host, now = options.host(), _aware(context.now)
        tokens = TokenManager(
            context.store,
            context.name,
            context.secret(options.client_id_secret),
            context.secret(options.client_secret_secret),
            f"{host}/api/oauth2/token",
            now,
            session,
        )
        client = ExactClient(
            host,
            options.division,
            tokens,
            session=session,
            timeout=(5.0, options.read_timeout_s),
            clock=now,
            sleep=sleep,
        )
        return cls(options, Resources(client), tokens, now)

    @staticmethod
    def authorise(config: Path, source: str | None, **flow: Any) -> None:
        """``dunning auth exact``: consent for one source, tokens stored."""
        from adapters.exact.cli import auth_command  # it imports this module

        auth_command(config, source, **flow)

    # -- pull -------------------------------------------------------------

    def pull_changes(self, cursor: str | None, known: Mapping[str, str]) -> Changes:
        """What changed since ``cursor``; a full snapshot on the reconcile days."""
        was = SyncCursor.loads(cursor)
        self.tokens.keep_alive()
        self._skipped_accounts = []
        debtors, accounts_ts = self._changed_debtors(was.accounts)
        terms, terms_ts = self._changed_terms(was.terms)
        deleted, orphans, deleted_ts = self._deletions(was.deleted)
        today = self.now().date()
        snapshot = was.terms == 0 or orphans or self._reconcile_due(was, today)

        skipped: list[tuple[str, str]] = list(self._skipped_accounts)
        if was.terms == 0:
            invoices = self._invoices(mapping.group_by_entry(terms), skipped)
        elif snapshot:
            invoices = self._open_snapshot(skipped)
        else:
            touched = {str(t["TransactionEntryID"]).lower() for t in terms} - deleted
            rows = self.resources.receivables_of_entries(sorted(touched))
            invoices = self._invoices(mapping.group_by_entry(rows), skipped)

        closed = self._closed(invoices, known, deleted, snapshot)
        new = SyncCursor(
            terms=max(terms_ts, was.terms),
            accounts=max(accounts_ts, was.accounts),
            deleted=max(deleted_ts, was.deleted),
            reconciled=today.isoformat() if snapshot else was.reconciled,
        )
        return Changes(
            cursor=new.dumps(),
            debtors=debtors,
            invoices=[i for i in invoices if i.is_open],
            closed=closed,
            complete_snapshot=bool(snapshot),
            skipped=skipped,
        )

    def _reconcile_due(self, cursor: SyncCursor, today: date) -> bool:
        if cursor.reconciled is None:
            return True
        last = date.fromisoformat(cursor.reconciled)
        return today - last >= timedelta(days=self.options.full_reconcile_days)

    def _changed_terms(self, since: int) -> tuple[list[Row], int]:
        customer_lines, highest = [], since
        for page in self.resources.changed_terms(since):
            for row in page:
                highest = max(highest, int(row["Timestamp"]))
                if row.get("LineType") == CUSTOMER_LINE:  # Exact cannot filter it
                    customer_lines.append(row)
        return customer_lines, highest

    def _changed_debtors(self, since: int) -> tuple[list[Debtor], int]:
        rows: dict[str, Row] = {}
        highest = since
        for page in self.resources.changed_accounts(since):
            for row in page:
                stamp = row.get("Timestamp")
                if isinstance(stamp, int | str) and str(stamp).isdigit():
                    highest = max(highest, int(stamp))
                key = _lower(row.get("ID"))
                if key and (row.get("IsSales") or text(row.get("Status")) == "C"):
                    rows[key] = row
        bill_to = self._bill_to_accounts(rows)
        debtors = []
        for key, row in rows.items():
            try:
                invoice_to = bill_to.get(_lower(row.get("InvoiceAccount")))
                debtors.append(mapping.debtor_from_account(row, invoice_to))
            except RecordError as exc:
                self._skipped_accounts.append((key, str(exc)))
        return debtors, highest

    def _bill_to_accounts(self, rows: Mapping[str, Row]) -> dict[str, Row]:
        wanted = {_lower(r.get("InvoiceAccount")) for r in rows.values()} - {""}
        found = {key: rows[key] for key in wanted if key in rows}
        missing = sorted(wanted - set(found))
        if missing:
            found.update((_lower(r["ID"]), r) for r in self.resources.accounts(missing))
        return found

    def _deletions(self, since: int) -> tuple[set[str], bool, int]:
        """Deleted invoices, whether terms vanished without one, the new Timestamp."""
        invoices: set[str] = set()
        terms = 0
        highest = since
        for page in self.resources.deletions(since):
            for row in page:
                highest = max(highest, int(row["Timestamp"]))
                if row.get("EntityType") == DELETED_SALES_INVOICE:
                    invoices.add(_lower(row["EntityKey"]))
                elif row.get("EntityType") == DELETED_TERM:
                    terms += 1
        # A term deleted without its invoice cannot be traced to one: reconcile.
        orphans = terms > 0 and not invoices
        return invoices, orphans, highest

    def _open_snapshot(self, skipped: list[tuple[str, str]]) -> list[Invoice]:
        """All open invoices: the open-items list, with each entry read whole."""
        numbers = [int(row["EntryNumber"]) for row in self.resources.open_items()]
        rows = self.resources.receivables_by_number(numbers)
        return self._invoices(mapping.group_by_entry(rows), skipped)

    def _invoices(
        self, entries: Mapping[str, Sequence[Row]], skipped: list[tuple[str, str]]
    ) -> list[Invoice]:
        invoices = []
        for entry_id, terms in entries.items():
            try:
                invoice = mapping.invoice_from_terms(entry_id, terms)
            except RecordError as exc:
                skipped.append((entry_id, str(exc)))
                continue
            self._numbers[invoice.key] = invoice.number
            invoices.append(invoice)
        return invoices

    def _closed(
        self,
        invoices: Iterable[Invoice],
        known: Mapping[str, str],
        deleted: set[str],
        snapshot: bool,
    ) -> dict[str, InvoiceStatus]:
        closed = {k: InvoiceStatus.DELETED for k in deleted if k in known}
        seen = {i.key for i in invoices}
        closed.update((i.key, i.status) for i in invoices if not i.is_open)
        gone = sorted(set(known) - seen - set(closed)) if snapshot else []
        if gone:
            for key, fresh in self.confirm_invoices(gone).items():
                if isinstance(fresh, InvoiceStatus):
                    closed[key] = fresh
        return {k: v for k, v in closed.items() if k in known}

    # -- confirm and write back -------------------------------------------

    def confirm_invoices(
        self, keys: Sequence[str]
    ) -> Mapping[str, Invoice | InvoiceStatus]:
        """Each invoice as Exact has it now; DELETED when its entry is gone."""
        rows = self.resources.receivables_of_entries([k.lower() for k in keys])
        entries = mapping.group_by_entry(rows)
        fresh: dict[str, Invoice | InvoiceStatus] = {}
        for key in keys:
            terms = entries.get(key.lower())
            if not terms:
                fresh[key] = InvoiceStatus.DELETED
                continue
            try:
                invoice = mapping.invoice_from_terms(key.lower(), terms)
            except RecordError:
                continue  # left out: the caller treats it as unconfirmed
            self._numbers[key] = invoice.number
            fresh[key] = invoice if invoice.is_open else invoice.status
        return fresh

    def write_note(self, note: Note) -> str:
        """A CommunicationNote on the debtor's account, at most one per key."""
        body = mapping.note_body(
            note, self._invoice_numbers(note.invoice_keys), self.now()
        )
        tag = mapping.marker(note.key)

        def find() -> str | None:
            rows = self.resources.notes_of(note.debtor_key)
            return next((str(r["ID"]) for r in rows if tag in str(r["Subject"])), None)

        def create() -> Row:
            if self.options.note_documents and "Document" not in body:
                body["Document"] = self._note_document(note, body)
            return self.resources.create_note(body)

        return _write_once(find, create)

    def create_task(self, task: Task) -> str:
        """A task on the debtor's account, at most one per key."""
        numbers = self._invoice_numbers(task.invoice_keys)
        body = mapping.task_body(task, numbers, self.now().date())
        tag = mapping.marker(task.key)

        def find() -> str | None:
            rows = self.resources.tasks_of(task.debtor_key)
            return next(
                (str(r["ID"]) for r in rows if tag in str(r["Description"])), None
            )

        return _write_once(find, lambda: self.resources.create_task(body))

    def store_document(
        self,
        key: str,
        debtor_key: str,
        invoice_keys: tuple[str, ...],
        filename: str,
        content: bytes,
    ) -> str:
        """The sent letter as a document on the account, at most one per key.

        Returns "" when the source does not keep letters (``letter_documents``).
        """
        if not self.options.letter_documents:
            return ""
        numbers = self._invoice_numbers(invoice_keys)
        body = {
            "Subject": mapping.letter_subject(key, filename, numbers),
            "Account": debtor_key,
            "Type": LETTER_DOCUMENT_TYPE,
            "DocumentDate": iso(self.now().date()),
        }

        def find() -> str | None:
            rows = self.resources.documents_of(debtor_key)
            found = (
                str(r["ID"])
                for r in rows
                if mapping.is_letter(text(r.get("Subject")), key, filename)
            )
            return next(found, None)

        document = _write_once(find, lambda: self.resources.create_document(body))
        self._attach_once(document, filename, content)
        return document

    def close(self) -> None:
        self.resources.client.close()

    def _invoice_numbers(self, keys: Sequence[str]) -> list[str]:
        missing = [k for k in keys if k not in self._numbers]
        if missing:
            self.confirm_invoices(missing)
        return [self._numbers.get(k, k) for k in keys]

    def _note_document(self, note: Note, body: Mapping[str, Any]) -> str:
        document = self.resources.create_document(
            {
                "Subject": body["Subject"],
                "Body": note.text,
                "Account": note.debtor_key,
                "Type": NOTE_DOCUMENT_TYPE,
                "DocumentDate": iso(self.now().date()),
            }
        )
        return str(document["ID"])

    def _attach_once(self, document: str, filename: str, content: bytes) -> str:
        """The file on the document, unless a crash left it there already."""
        body = {
            "Document": document,
            "FileName": filename,
            "Attachment": base64.b64encode(content).decode("ascii"),
        }

        def find() -> str | None:
            rows = self.resources.attachments_of(document)
            named = (str(r["ID"]) for r in rows if r.get("FileName") == filename)
            return next(named, None)

        return _write_once(find, lambda: self.resources.create_attachment(body))


def _write_once(find: Callable[[], str | None], create: Callable[[], Row]) -> str:
    """Create unless it exists; after a lost answer, look before trying again."""
    existing = find()
    if existing is not None:
        return existing
    try:
        return str(create()["ID"])
    except OutcomeUnknown:
        existing = find()
        if existing is not None:
            return existing
        return str(create()["ID"])


def _lower(value: Any) -> str:
    return "" if value is None else str(value).lower()
