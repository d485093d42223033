"""The Moneybird adapter: the connector's protocol on top of resources and mapping.

A pull costs 1 + ceil((changed + left) / 100) requests: the ids and versions of
the open invoices, then the changed ones and those that left the open list,
fetched by id together. A full pull (the first, then weekly) fetches every open
invoice. At most once per ``contact_check_minutes`` a partial pull also lists the
contacts' versions (one more request, plus one per 100 changed contacts), since
a contact can change without its invoices. The cursor remembers what it saw.

Notes are written on invoices read earlier in the same cycle (by the pull or the
confirm): those reads show any note an earlier attempt left, so finding it costs
no extra request. A write costs one POST per invoice, plus a pause when taking
over reminders.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from pydantic import Field, field_validator, model_validator

from adapters.base import (
    AdapterOptions,
    Changes,
    Note,
    SecretRef,
    SourceContext,
    Task,
)
from adapters.moneybird import mapping
from adapters.moneybird.auth import OAuthApp, TokenKeeper, oauth_url_for
from adapters.moneybird.client import (
    DEFAULT_BASE_URL,
    MoneybirdClient,
    NotSent,
    RateLimited,
    RecordNotFound,
    Timeouts,
)
from adapters.moneybird.cursor import Cursor
from adapters.moneybird.resources import (
    Contacts,
    Record,
    SalesInvoices,
    SynchronizedResource,
)
from connector.domain import Debtor, Invoice, InvoiceStatus
from connector.errors import ConfigError, RecordError, RetriableError

log = structlog.get_logger(__name__)


class MoneybirdOptions(AdapterOptions):
    """A Moneybird source in the policy.

    ``auth: token`` (the default) uses a personal API token named by ``token``;
    ``auth: oauth`` uses the grant stored for the source after consent, with the
    app's ``client_id`` and ``client_secret``.
    """

    administration: str = Field(pattern=r"^\d+$")
    auth: Literal["token", "oauth"] = "token"
    token_secret: str | None = Field(default=None, min_length=1)
    client_id: str | None = Field(default=None, min_length=1)
    client_secret: SecretRef | None = None
    oauth_url: str | None = None
    base_url: str = DEFAULT_BASE_URL
    take_over_reminders: bool = False
    task_assignee: str | None = None
    full_reconcile_days: int = Field(default=7, ge=1)
    contact_check_minutes: int = Field(default=60, ge=0)
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

    @field_validator("administration", "task_assignee", "client_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @model_validator(mode="after")
    def _credentials_for_auth(self) -> MoneybirdOptions:
        if self.auth == "token" and self.token_secret is None:
            raise ValueError("auth: token needs token: {secret: NAME}")
        if self.auth == "oauth" and (self.client_id is None or not self.client_secret):
            raise ValueError(
                "auth: oauth needs client_id and client_secret: {secret: NAME}"
            )
        return self


@dataclass
class _Pull:
    """The pieces of one pull as they come in."""

    invoices: list[Invoice] = field(default_factory=list)
    debtors: dict[str, Debtor] = field(default_factory=dict)
    closed: dict[str, InvoiceStatus] = field(default_factory=dict)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def token_keeper(options: MoneybirdOptions, context: SourceContext) -> TokenKeeper:
    """The keeper of a source's OAuth grant, from its options and the store."""
    if context.store is None:
        raise ConfigError(f"source {context.name!r}: auth: oauth needs the state store")
    assert options.client_id is not None and options.client_secret is not None
    app = OAuthApp(
        options.client_id,
        context.secret(options.client_secret.secret),
        oauth_url=options.oauth_url or oauth_url_for(options.base_url),
        timeout=(options.connect_timeout_s, options.read_timeout_s),
    )
    return TokenKeeper(context.store, context.name, app, context.now)


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
        self._read: dict[str, Record] = {}  # invoices read this cycle, by id

    @classmethod
    def create(
        cls, options: MoneybirdOptions, context: SourceContext
    ) -> MoneybirdAdapter:
        """Build the adapter for one source; secrets come from ``context.secret``."""
        timeouts = Timeouts(options.connect_timeout_s, options.read_timeout_s)
        if options.auth == "oauth":
            keeper = token_keeper(options, context)
            client = MoneybirdClient(
                keeper.access_token,
                options.administration,
                base_url=options.base_url,
                timeouts=timeouts,
                refresh_token=keeper.refresh_rejected,
            )
        else:
            assert options.token_secret is not None  # the options check it
            token = context.secret(options.token_secret)
            client = MoneybirdClient(
                lambda: token,
                options.administration,
                base_url=options.base_url,
                timeouts=timeouts,
            )
        return cls(options, context, client)

    # -- pull --------------------------------------------------------------------

    def pull_changes(self, cursor: str | None, known: Mapping[str, str]) -> Changes:
        """Open invoices changed since ``cursor``, their debtors, and what closed."""
        seen = Cursor.load(cursor)
        now = self.context.now()
        self._read.clear()  # a pull starts a cycle: forget the last one's reads
        full = _older_than(
            seen.reconciled_at, now, days=self.options.full_reconcile_days
        )
        # A full pull fetches every open invoice with its contact embedded, so
        # only a partial one needs the contact list to see contacts change.
        check_contacts = not full and _older_than(
            seen.contacts_checked_at, now, minutes=self.options.contact_check_minutes
        )
        remote = self.invoices.open_versions()
        contact_versions = self.contacts.versions() if check_contacts else None
        wanted = [
            key
            for key, version in remote.items()
            if full or _needs_fetch(key, version, seen, known)
        ]
        left = sorted((set(known) | set(seen.invoices)) - set(remote))

        pull = _Pull()
        fresh = Cursor(
            reconciled_at=now if full else seen.reconciled_at,
            contacts_checked_at=now
            if full or check_contacts
            else seen.contacts_checked_at,
        )
        records = self._fetch_invoices([*wanted, *left])
        self._read_changed(wanted, records, remote, pull, fresh)
        self._read_left(left, records, pull)
        fetched = set(wanted)
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

    def _fetch_invoices(self, keys: Sequence[str]) -> dict[str, Record]:
        """Full records by id, 100 a request; each is kept for the write-back."""
        records = {mapping.text(r, "id"): r for r in self.invoices.fetch(keys)}
        self._read.update(records)
        return records

    def _read_changed(
        self,
        wanted: list[str],
        records: Mapping[str, Record],
        remote: dict[str, int],
        pull: _Pull,
        fresh: Cursor,
    ) -> None:
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

    def _read_left(
        self, keys: list[str], records: Mapping[str, Record], pull: _Pull
    ) -> None:
        """Invoices gone from the open list, read along with the changed ones."""
        found = _confirmed_from(keys, records)
        for key in keys:
            current = found.get(key, InvoiceStatus.DELETED)
            if isinstance(current, Invoice):
                pull.invoices.append(current)
            else:
                pull.closed[key] = current

    def _read_debtors(
        self,
        seen: Cursor,
        fresh: Cursor,
        versions: Mapping[str, int] | None,
        pull: _Pull,
    ) -> None:
        """Refresh debtors of open invoices whose contact changed on its own.

        Without ``versions`` (contacts not listed this time) only contacts the
        cursor does not know yet are fetched.
        """
        needed = {contact for _, contact in fresh.invoices.values()}
        stale = []
        for key in sorted(needed - set(pull.debtors)):
            before = seen.contacts.get(key)
            changed = (
                before is not None
                and versions is not None
                and (versions.get(key) != before[0])
            )
            if before is None or changed:
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
        return _confirmed_from(keys, self._fetch_invoices(keys))

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
        records = self._records_for(resource, targets)
        written = []
        for target in targets:
            record = records.get(target)
            if record is None:
                continue  # deleted meanwhile: nothing to write on
            existing = _find_note(record, tag)
            if existing is None:
                body = text if tag in text else f"{text}\n\n{tag}"
                try:
                    existing = self._post_note(
                        resource, target, body, tag, todo, assignee
                    )
                except RecordNotFound:
                    continue  # deleted since it was read
                _remember_note(record, existing, body)
            written.append(existing)
        if not written:
            raise RecordError(f"none of {', '.join(targets)} exists any more")
        if invoice_keys and self.options.take_over_reminders:
            self._pause_all(records)
        return ",".join(written)

    def _records_for(
        self, resource: SynchronizedResource, targets: list[str]
    ) -> dict[str, Record]:
        """The records to write on, as read earlier in this cycle or fetched now.

        A record read by this cycle's pull or confirm shows every note written
        before the cycle started; the notes written since are added to it as they
        are written. That is enough to find an earlier attempt's note, and it
        saves a fetch per note.
        """
        if resource is not self.invoices:
            return {mapping.text(r, "id"): r for r in resource.fetch(targets)}
        missing = [t for t in targets if t not in self._read]
        if missing:
            self._fetch_invoices(missing)
        return {t: self._read[t] for t in targets if t in self._read}

    def _pause_all(self, records: Mapping[str, Record]) -> None:
        for target, record in records.items():
            if record.get("paused"):
                continue
            if mapping.text(record, "state") not in mapping.OPEN_STATES:
                continue
            try:
                self.pause_invoice(target)
            except RecordNotFound:
                continue
            record["paused"] = True

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


def _older_than(
    moment: datetime | None, now: datetime, *, days: int = 0, minutes: int = 0
) -> bool:
    """Whether ``moment`` is unset or at least that long before ``now``."""
    return moment is None or now - moment >= timedelta(days=days, minutes=minutes)


def _confirmed_from(
    keys: Sequence[str], records: Mapping[str, Record]
) -> dict[str, Invoice | InvoiceStatus]:
    """What each invoice is now: open (fresh data), closed, or deleted."""
    confirmed: dict[str, Invoice | InvoiceStatus] = {}
    for key in keys:
        record = records.get(key)
        if record is None:
            confirmed[key] = InvoiceStatus.DELETED
            continue
        try:
            status = mapping.status_of(record)
            confirmed[key] = (
                mapping.invoice_from(record) if status is InvoiceStatus.OPEN else status
            )
        except RecordError as exc:
            if mapping.text(record, "state") in mapping.UNSENT_STATES:
                confirmed[key] = InvoiceStatus.DELETED
            else:
                log.warning("invoice_unreadable", invoice=key, reason=str(exc))
    return confirmed


def _remember_note(record: Record, note_id: str, body: str) -> None:
    """Add a note just written to a record read earlier."""
    record["notes"] = [*(record.get("notes") or []), {"id": note_id, "note": body}]


def _find_note(record: Mapping[str, Any], tag: str) -> str | None:
    for note_id, body in mapping.note_ids(record).items():
        if tag in body:
            return note_id
    return None
