"""The Moneybird adapter: the connector's protocol on top of resources and mapping.

A pull costs 2 + ceil(changed / 100) + ceil(left / 100) requests (plus one per 100
changed contacts): the ids and versions of the open invoices and of the contacts,
then the changed records fetched by id. The cursor remembers the versions it saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import structlog
from pydantic import Field, field_validator, model_validator

from adapters.base import AdapterOptions, Changes, Note, SourceContext, Task
from adapters.moneybird import mapping
from adapters.moneybird.client import (
    DEFAULT_BASE_URL,
    MoneybirdClient,
    NotSent,
    RateLimited,
    Timeouts,
)
from adapters.moneybird.cursor import Cursor
from adapters.moneybird.resources import Contacts, SalesInvoices, SynchronizedResource
from connector.domain import Debtor, Invoice, InvoiceStatus
from connector.errors import RecordError, RetriableError

log = structlog.get_logger(__name__)


class MoneybirdOptions(AdapterOptions):
    """A Moneybird source in the policy."""

    administration: str = Field(pattern=r"^\d+$")
    token_secret: str = Field(min_length=1)
    base_url: str = DEFAULT_BASE_URL
    take_over_reminders: bool = False
    task_assignee: str | None = None
    full_reconcile_days: int = Field(default=7, ge=1)
    connect_timeout_s: float = Field(default=5.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _token_reference(cls, data: Any) -> Any:
        """Accept ``token: {secret: NAME}`` as the policy sketch writes it."""
        if isinstance(data, dict) and isinstance(data.get("token"), dict):
            data = dict(data)
            data["token_secret"] = data.pop("token").get("secret")
        return data

    @field_validator("administration", "task_assignee", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


@dataclass
class _Pull:
    """The pieces of one pull as they come in."""

    invoices: list[Invoice] = field(default_factory=list)
    debtors: dict[str, Debtor] = field(default_factory=dict)
    closed: dict[str, InvoiceStatus] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def marker(key: str) -> str:
    """The tag that makes a note findable by its action key."""
    return f"[dunning:{key}]"


class MoneybirdAdapter:
    """Reads open sales invoices and contacts; writes notes, to-dos and pauses."""

    Options = MoneybirdOptions

    def __init__(
        self, options: MoneybirdOptions, context: SourceContext, client: MoneybirdClient
    ) -> None:
        self.options = options
        self.context = context
        self.client = client
        self.invoices = SalesInvoices(client)
        self.contacts = Contacts(client)

    @classmethod
    def create(
        cls, options: MoneybirdOptions, context: SourceContext
    ) -> MoneybirdAdapter:
        """Build the adapter for one source; the token comes from ``context.secret``."""
        token = context.secret(options.token_secret)
        client = MoneybirdClient(
            lambda: token,
            options.administration,
            base_url=options.base_url,
            timeouts=Timeouts(options.connect_timeout_s, options.read_timeout_s),
        )
        return cls(options, context, client)

    # -- pull --------------------------------------------------------------------

    def pull_changes(self, cursor: str | None, known: Mapping[str, str]) -> Changes:
        """Open invoices changed since ``cursor``, their debtors, and what closed."""
        seen = Cursor.load(cursor)
        now = self.context.now()
        full = seen.reconciled_at is None or now - seen.reconciled_at >= timedelta(
            days=self.options.full_reconcile_days
        )
        remote = self.invoices.open_versions()
        contact_versions = self.contacts.versions()
        wanted = [
            key
            for key, version in remote.items()
            if full or _needs_fetch(key, version, seen, known)
        ]
        left = (set(known) | set(seen.invoices)) - set(remote)
        fetched = set(wanted)

        pull = _Pull()
        fresh = Cursor(reconciled_at=now if full else seen.reconciled_at)
        self._read_changed(wanted, remote, pull, fresh)
        self._read_left(sorted(left), pull)
        for key, version in remote.items():
            if key in fetched:
                continue
            if key in seen.skipped:
                fresh.skipped[key] = seen.skipped[key]
            elif key in seen.invoices:
                fresh.invoices[key] = (version, seen.invoices[key][1])
        self._read_debtors(seen, fresh, contact_versions, pull)
        return Changes(
            cursor=fresh.dump(),
            debtors=list(pull.debtors.values()),
            invoices=pull.invoices,
            closed=pull.closed,
            complete_snapshot=full,
            skipped=pull.skipped,
        )

    def _read_changed(
        self, wanted: list[str], remote: dict[str, int], pull: _Pull, fresh: Cursor
    ) -> None:
        records = {mapping.text(r, "id"): r for r in self.invoices.fetch(wanted)}
        for key in wanted:
            record = records.get(key)
            if record is None:  # deleted between the list and the fetch
                pull.closed[key] = InvoiceStatus.DELETED
                continue
            try:
                invoice = mapping.invoice_from(record)
            except RecordError as exc:
                pull.skipped.append((key, str(exc)))
                fresh.skipped[key] = remote[key]
                continue
            if invoice.status is not InvoiceStatus.OPEN:
                pull.closed[key] = invoice.status
                continue
            pull.invoices.append(invoice)
            fresh.invoices[key] = (int(record.get("version") or 0), invoice.debtor_key)
            self._take_debtor(record, pull, fresh)

    def _take_debtor(
        self, record: Mapping[str, Any], pull: _Pull, fresh: Cursor
    ) -> None:
        contact = record.get("contact")
        if not isinstance(contact, Mapping) or contact.get("id") is None:
            return
        key = mapping.text(contact, "id")
        language = mapping.text(record, "language") or None
        try:
            pull.debtors[key] = mapping.debtor_from(contact, language=language)
        except RecordError as exc:
            pull.skipped.append((key, str(exc)))
            return
        fresh.contacts[key] = (int(contact.get("version") or 0), language)

    def _read_left(self, keys: list[str], pull: _Pull) -> None:
        """Invoices gone from the open list: read once more to learn why."""
        fresh = self.confirm_invoices(keys)
        for key in keys:
            found = fresh.get(key, InvoiceStatus.DELETED)
            if isinstance(found, Invoice):
                pull.invoices.append(found)
            else:
                pull.closed[key] = found

    def _read_debtors(
        self,
        seen: Cursor,
        fresh: Cursor,
        versions: Mapping[str, int],
        pull: _Pull,
    ) -> None:
        """Refresh debtors of open invoices whose contact changed on its own."""
        needed = {contact for _, contact in fresh.invoices.values()}
        stale = []
        for key in sorted(needed - set(pull.debtors)):
            before = seen.contacts.get(key)
            if before is None or versions.get(key) != before[0]:
                stale.append(key)
            else:
                fresh.contacts[key] = before
        for contact in self.contacts.fetch(stale):
            key = mapping.text(contact, "id")
            language = seen.contacts.get(key, (0, None))[1]
            try:
                pull.debtors[key] = mapping.debtor_from(contact, language=language)
            except RecordError as exc:
                pull.skipped.append((key, str(exc)))
                continue
            fresh.contacts[key] = (int(contact.get("version") or 0), language)

    # -- confirm -----------------------------------------------------------------

    def confirm_invoices(
        self, keys: Sequence[str]
    ) -> Mapping[str, Invoice | InvoiceStatus]:
        """Re-read invoices in batches of 100; gone ones are DELETED.

        An invoice that is open but can no longer be read is left out, so the
        caller treats it as not confirmed.
        """
        records = {mapping.text(r, "id"): r for r in self.invoices.fetch(keys)}
        confirmed: dict[str, Invoice | InvoiceStatus] = {}
        for key in keys:
            record = records.get(key)
            if record is None:
                confirmed[key] = InvoiceStatus.DELETED
                continue
            try:
                status = mapping.status_of(record)
                confirmed[key] = (
                    mapping.invoice_from(record)
                    if status is InvoiceStatus.OPEN
                    else status
                )
            except RecordError as exc:
                if mapping.text(record, "state") in mapping.UNSENT_STATES:
                    confirmed[key] = InvoiceStatus.DELETED
                else:
                    log.warning("invoice_unreadable", invoice=key, reason=str(exc))
        return confirmed

    # -- write back ----------------------------------------------------------------

    def write_note(self, note: Note) -> str:
        """A note on each invoice (or on the debtor); at most one per key each."""
        return self._write(note.key, note.text, note.debtor_key, note.invoice_keys)

    def create_task(self, task: Task) -> str:
        """A to-do note, assigned to ``task.assignee`` or the source's assignee."""
        text = task.text
        if task.due_on is not None:
            text = f"{text}\n(due {task.due_on.isoformat()})"
        assignee = task.assignee or self.options.task_assignee
        return self._write(
            task.key,
            text,
            task.debtor_key,
            task.invoice_keys,
            todo=True,
            assignee=assignee,
        )

    def _write(
        self,
        key: str,
        text: str,
        debtor_key: str,
        invoice_keys: Sequence[str],
        *,
        todo: bool = False,
        assignee: str | None = None,
    ) -> str:
        resource: SynchronizedResource = (
            self.invoices if invoice_keys else self.contacts
        )
        targets = list(dict.fromkeys(invoice_keys)) or [debtor_key]
        tag = marker(key)
        records = {mapping.text(r, "id"): r for r in resource.fetch(targets)}
        written = []
        for target in targets:
            record = records.get(target)
            if record is None:
                continue  # deleted meanwhile: nothing to write on
            existing = _find_note(record, tag)
            if existing is None:
                body = text if tag in text else f"{text}\n\n{tag}"
                existing = self._post_note(resource, target, body, tag, todo, assignee)
            written.append(existing)
        if not written:
            raise RecordError(f"none of {', '.join(targets)} exists any more")
        if invoice_keys and self.options.take_over_reminders:
            for target, record in records.items():
                if (
                    not record.get("paused")
                    and mapping.text(record, "state") in mapping.OPEN_STATES
                ):
                    self.pause_invoice(target)
        return ",".join(written)

    def _post_note(
        self,
        resource: SynchronizedResource,
        target: str,
        body: str,
        tag: str,
        todo: bool,
        assignee: str | None,
    ) -> str:
        """POST once; if the answer is lost, look before writing again."""
        for _ in range(2):
            try:
                created = resource.add_note(
                    target, body, todo=todo, assignee_id=assignee
                )
                return mapping.text(created, "id")
            except (RateLimited, NotSent):
                raise  # the server never acted on it; the client already retried
            except RetriableError as exc:
                log.warning("note_outcome_unknown", record=target, reason=str(exc))
            record = resource.get(target)
            found = _find_note(record, tag) if record is not None else None
            if found is not None:
                return found
        raise RetriableError(f"moneybird: note on {target} could not be confirmed")

    def pause_invoice(self, key: str) -> None:
        """Stop Moneybird's own reminders for an invoice the connector chases."""
        self.invoices.pause(key)

    def resume_invoice(self, key: str) -> None:
        self.invoices.resume(key)

    def download_pdf(self, key: str) -> bytes:
        """The invoice as PDF, as Moneybird renders it."""
        return self.invoices.download_pdf(key)

    def close(self) -> None:
        self.client.close()


def _needs_fetch(
    key: str, version: int, seen: Cursor, known: Mapping[str, str]
) -> bool:
    """Changed since the cursor, or missing from the mirror (unless unusable)."""
    if key in seen.skipped:
        return seen.skipped[key] != version
    before = seen.invoices.get(key)
    return before is None or before[0] != version or key not in known


def _find_note(record: Mapping[str, Any], tag: str) -> str | None:
    for note_id, body in mapping.note_ids(record).items():
        if tag in body:
            return note_id
    return None
