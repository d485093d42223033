"""Carrying out actions: confirm, record, run the channel, mark, write back.

The order is what makes a crash safe. An action is recorded (``pending``) before
anything leaves the process, marked ``sending`` right before its channel runs, and
``done`` right after. A process that dies in between leaves ``sending`` behind,
which the next cycle turns into ``needs_review``: it is never sent again by itself.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import structlog

from adapters.base import Adapter, Note
from connector.channels.email import DeliveryUncertain, OutgoingEmail
from connector.channels.outbox import OutboxChannel
from connector.charges import Charges, charges_for
from connector.domain import HoldKind, Invoice, InvoiceStatus
from connector.errors import (
    BudgetExhausted,
    ChannelError,
    ChannelFailed,
    ChannelRetriable,
    DunningError,
    FatalSourceError,
    RecordError,
    SourceError,
)
from connector.faults import crash_point
from connector.handover import deliver, make_dossier
from connector.letter_actions import letter_content, letter_term
from connector.letters.letter import letter_subject, render_letter
from connector.messages import (
    build_email,
    note_for,
    render_email,
    render_text,
    task_for,
)
from connector.planner import PlannedAction, action_key
from connector.policy import Policy
from connector.render import TemplateRenderer
from connector.store import ActionRecord, State, Store

MAX_ATTEMPTS = 5
RETRY_BASE = timedelta(minutes=15)
log = structlog.get_logger("dunning.execute")


class Sender(Protocol):
    """A channel that carries out one email."""

    def send(self, email: OutgoingEmail) -> str: ...


Mailer = AbstractContextManager[Sender]


class Executor:
    """Turns planned actions into ledger entries and carried-out actions."""

    def __init__(
        self,
        policy: Policy,
        source: str,
        store: Store,
        adapter: Adapter,
        renderer: TemplateRenderer,
        mailer: Callable[[], Mailer],
        clock: Callable[[], datetime],
        secrets: Callable[[str], str] | None = None,
    ):
        self.policy = policy
        self.source = source
        self.store = store
        self.ledger = store.ledger
        self.adapter = adapter
        self.renderer = renderer
        self.mailer = mailer
        self.clock = clock
        self.store_secret = secrets

    def preview(self, planned: Sequence[PlannedAction], today: date) -> Counter[str]:
        """Render what would be sent into the dry-run outbox; record nothing."""
        outbox = OutboxChannel(self.policy.outbox_dir() / "dry-run")
        counts: Counter[str] = Counter()
        now = self.clock()
        for action in planned:
            if action.channel == "email":
                message = render_email(action, self.policy, self.renderer, today)
                outbox.send(build_email(action, message, self.policy, now))
            counts[f"would_{action.channel}"] += 1
        return counts

    def act(
        self, planned: Sequence[PlannedAction], now: datetime, today: date
    ) -> Counter[str]:
        """Confirm, record and carry out what is due, and retry what may be retried."""
        counts: Counter[str] = Counter()
        waiting = self.ledger.find(source=self.source, states=[State.PENDING])
        waiting += [
            a
            for a in self.ledger.find(source=self.source, states=[State.DEFERRED])
            if a.next_attempt_at is None or a.next_attempt_at <= now
        ]
        fresh = self._confirm(planned, waiting, now)
        for action in planned:
            self._record(action, fresh, now, today, counts)
        crash_point("after_record")
        runnable = self.ledger.find(source=self.source, states=[State.PENDING])
        runnable += [a for a in waiting if a.state is State.DEFERRED]
        rebuilt = [
            (record, self._rebuild(record, today, counts)) for record in runnable
        ]
        ready = [(r, a) for r, a in rebuilt if a is not None]
        self._run_all(ready, now, today, counts)
        return counts

    def write_back(self, now: datetime) -> Counter[str]:
        """Write the notes of done actions that are not in the books yet."""
        counts: Counter[str] = Counter()
        crash_point("before_write_back")
        for record in self.ledger.find(source=self.source, note_state="pending"):
            note = Note(
                key=record.key,
                debtor_key=record.debtor_key,
                invoice_keys=record.invoice_keys,
                text=str(record.payload.get("note_text", "")),
            )
            try:
                note_id = self.adapter.write_note(note)
                crash_point("after_note")
            except RecordError as exc:
                # Nothing left to write on (the invoice was deleted meanwhile).
                self.ledger.update(record.key, now, note_state="not_written")
                log.warning(
                    "note_not_written",
                    source=self.source,
                    action=record.key,
                    reason=str(exc),
                )
                continue
            except BudgetExhausted:
                raise
            except SourceError as exc:
                counts["notes_failed"] += 1
                log.warning(
                    "note_failed", source=self.source, action=record.key, error=str(exc)
                )
                if isinstance(exc, FatalSourceError):
                    raise
                continue
            self.ledger.update(record.key, now, note_state="done", note_id=note_id)
            counts["notes_written"] += 1
            log.info(
                "note_written", source=self.source, action=record.key, note=note_id
            )
        return counts

    def _confirm(
        self,
        planned: Sequence[PlannedAction],
        waiting: Iterable[ActionRecord],
        now: datetime,
    ) -> Mapping[str, Invoice | InvoiceStatus]:
        keys: set[str] = set()
        for action in planned:
            keys.update(i.key for i in action.invoices)
            keys.update(c.key for c in action.credit_notes)
        for record in waiting:
            keys.update(record.invoice_keys)
        if not keys:
            return {}
        fresh = self.adapter.confirm_invoices(sorted(keys))
        self.store.mirror.record_confirmed(self.source, fresh, now)
        crash_point("after_confirm")
        return fresh

    def _record(
        self,
        action: PlannedAction,
        fresh: Mapping[str, Invoice | InvoiceStatus],
        now: datetime,
        today: date,
        counts: Counter[str],
    ) -> None:
        kept: list[Invoice] = []
        for invoice in action.invoices:
            current = fresh.get(invoice.key)
            if current is None:
                # Not confirmed either way: left for a later cycle.
                counts["unconfirmed"] += 1
                continue
            if isinstance(current, InvoiceStatus):
                # Paid at the source, but a claim may be left on it here.
                current = self.store.mirror.invoice(self.source, invoice.key) or current
            if (
                isinstance(current, Invoice)
                and current.is_open
                and current.open_amount > 0
            ):
                kept.append(current)
                continue
            status = current if isinstance(current, InvoiceStatus) else current.status
            self._record_skip(
                action, invoice, _closed_reason(status), now, today, counts
            )
        if not kept:
            return
        credits = tuple(
            c
            for c in (fresh.get(c.key, c) for c in action.credit_notes)
            if isinstance(c, Invoice) and c.is_open and c.open_amount < 0
        )
        key = action_key(
            self.source, action.debtor.key, action.step.id, (i.key for i in kept)
        )
        action = replace(action, key=key, invoices=tuple(kept), credit_notes=credits)
        if action.credit_notes and action.total_open <= 0:
            for invoice in action.invoices:
                self._record_skip(
                    action, invoice, "covered by credit", now, today, counts
                )
            return
        state = State.AWAITING_APPROVAL if action.step.needs_approval else State.PENDING
        record = _action_record(action, state, today, self._preview(action, today))
        if self.ledger.record(record, now):
            counts["recorded"] += 1
            if state is State.AWAITING_APPROVAL:
                counts["awaiting_approval"] += 1
                log.info("approval_requested", source=self.source, action=action.key)

    def _record_skip(
        self,
        action: PlannedAction,
        invoice: Invoice,
        reason: str,
        now: datetime,
        today: date,
        counts: Counter[str],
    ) -> None:
        key = action_key(self.source, action.debtor.key, action.step.id, [invoice.key])
        single = replace(action, key=key, invoices=(invoice,), credit_notes=())
        record = _action_record(single, State.SKIPPED, today, {}, reason=reason)
        if self.ledger.record(record, now):
            counts["skipped"] += 1
            log.info(
                "action_skipped",
                source=self.source,
                invoice=invoice.number,
                step=action.step.id,
                reason=reason,
            )

    def _preview(self, action: PlannedAction, today: date) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "debtor": action.debtor.name,
            "invoices": [[i.number, str(i.open_amount)] for i in action.invoices],
            "credit_notes": [
                [c.number, str(c.open_amount)] for c in action.credit_notes
            ],
            "credit_note_keys": [c.key for c in action.credit_notes],
            "notices": [[key, day.isoformat()] for key, day in action.notices],
            "total": str(action.total_open),
            "currency": action.currency,
        }
        charges = charges_for(action, self.policy, today)
        payload.update(charges.ledger_record())
        if action.channel == "email":
            message = render_email(action, self.policy, self.renderer, today, charges)
            payload.update(to=list(action.debtor.emails), subject=message.subject)
        if action.channel == "letter":
            payload.update(letter=action.step.letter, delivery=action.step.delivery)
            if action.step.delivery == "email":
                payload.update(to=list(action.debtor.emails))
        return payload

    def _rebuild(
        self, record: ActionRecord, today: date, counts: Counter[str]
    ) -> PlannedAction | None:
        """The action a ledger entry stands for, with the invoices as they are now."""
        steps = {s.id: s for s in self.policy.plans.get(record.plan, ())}
        debtor = self.store.mirror.debtor(self.source, record.debtor_key)
        if record.step_id not in steps or debtor is None:
            self._skip_record(
                record, "the step or debtor is gone from the policy", counts
            )
            return None
        invoices = [
            self.store.mirror.invoice(self.source, k) for k in record.invoice_keys
        ]
        still_open = tuple(i for i in invoices if i is not None and i.is_open)
        if not still_open:
            self._skip_record(record, "no invoice of it is open any more", counts)
            return None
        currency = still_open[0].currency
        # The credit notes and 14-day terms the planner gave this action, as
        # they are now: credit is netted in the message it was planned for only.
        credit_keys = record.payload.get("credit_note_keys", [])
        found = [self.store.mirror.invoice(self.source, k) for k in credit_keys]
        credits = tuple(c for c in found if c is not None and c.is_open)
        notices = tuple(
            (key, date.fromisoformat(day))
            for key, day in record.payload.get("notices", [])
        )
        return PlannedAction(
            key=record.key,
            source=self.source,
            debtor=debtor,
            plan=record.plan,
            segment="",
            step=steps[record.step_id],
            invoices=still_open,
            credit_notes=credits,
            currency=currency,
            scheduled_on=record.scheduled_on,
            late=record.late or record.scheduled_on < today,
            notices=notices,
        )

    def _skip_record(
        self, record: ActionRecord, reason: str, counts: Counter[str]
    ) -> None:
        states = [State.PENDING, State.DEFERRED]
        if self.ledger.transition(
            record.key, states, State.SKIPPED, self.clock(), reason=reason
        ):
            counts["skipped"] += 1
            log.info(
                "action_skipped", source=self.source, action=record.key, reason=reason
            )

    def _run_all(
        self,
        ready: list[tuple[ActionRecord, PlannedAction]],
        now: datetime,
        today: date,
        counts: Counter[str],
    ) -> None:
        emails = [(r, a) for r, a in ready if _needs_mailer(a)]
        others = [(r, a) for r, a in ready if not _needs_mailer(a)]
        for record, action in others:
            self._run_one(record, action, None, now, today, counts)
        if not emails:
            return
        try:
            with self.mailer() as sender:
                for record, action in emails:
                    self._run_one(record, action, sender, now, today, counts)
        except ChannelError as exc:
            # The connection could not be opened (or closed): what was not sent yet
            # waits for a later cycle; the ledger's state guard skips the rest.
            log.warning("mail_server_unavailable", source=self.source, error=str(exc))
            for record, _ in emails:
                self._defer(record, str(exc), now, counts, from_sending=False)

    def _run_one(
        self,
        record: ActionRecord,
        action: PlannedAction,
        sender: Sender | None,
        now: datetime,
        today: date,
        counts: Counter[str],
    ) -> None:
        attempts = record.attempts + 1
        from_states = [State.PENDING, State.DEFERRED]
        if not self.ledger.transition(
            record.key, from_states, State.SENDING, now, attempts=attempts
        ):
            return
        record = replace(record, attempts=attempts, state=State.SENDING)
        crash_point("before_send")
        try:
            result = self._carry_out(action, sender, now, today)
        except BudgetExhausted:
            # Refused before anything was sent: back in line, no attempt counted.
            self.ledger.transition(
                record.key,
                [State.SENDING],
                State.DEFERRED,
                now,
                attempts=record.attempts - 1,
            )
            raise
        except (ChannelRetriable, SourceError) as exc:
            if isinstance(exc, FatalSourceError):
                self._fail(record, str(exc), now, counts)
            else:
                self._defer(record, str(exc), now, counts, from_sending=True)
            return
        except DeliveryUncertain as exc:
            self.ledger.transition(
                record.key, [State.SENDING], State.NEEDS_REVIEW, now, error=str(exc)
            )
            counts["needs_review"] += 1
            log.error("action_uncertain", source=self.source, action=record.key)
            return
        except ChannelFailed as exc:
            self._fail(record, str(exc), now, counts)
            return
        except Exception as exc:  # unknown outcome: a person decides, never a resend
            log.exception("action_uncertain", source=self.source, action=record.key)
            self.ledger.transition(
                record.key,
                [State.SENDING],
                State.NEEDS_REVIEW,
                now,
                error=f"unexpected error: {exc!r}",
            )
            counts["needs_review"] += 1
            return
        crash_point("after_send")
        email = action.channel == "email"
        # Tasks and notes are in the books already; letters and handovers are
        # not, so they leave a note there just as emails do.
        noted = action.channel in ("email", "letter", "handover")
        result["note_text"] = note_for(action, self.policy, now, result).text
        self.ledger.transition(
            record.key,
            [State.SENDING],
            State.DONE,
            now,
            result={k: v for k, v in result.items() if k != "note_text"},
            payload={**record.payload, "note_text": result["note_text"]},
            note_state="pending" if noted else "none",
            taken_on=today,
        )
        counts[f"{action.channel}_done"] += 1
        log.info(
            f"{action.step.id}_sent" if email else f"{action.channel}_created",
            source=self.source,
            action=action.key,
            debtor=action.debtor.key,
            invoices=len(action.invoices),
            late=action.late,
        )

    def _carry_out(
        self, action: PlannedAction, sender: Sender | None, now: datetime, today: date
    ) -> dict[str, Any]:
        charges = charges_for(action, self.policy, today)
        if action.channel == "email":
            assert sender is not None
            message = render_email(action, self.policy, self.renderer, today, charges)
            attachments = self._invoice_copies(action)
            email = build_email(action, message, self.policy, now, attachments)
            message_id = sender.send(email)
            result = {"message_id": message_id, "to": list(email.to)}
            return {**result, "subject": email.subject, **charges.ledger_record()}
        if action.channel == "letter":
            return self._send_letter(action, sender, charges, now, today)
        if action.channel == "handover":
            return self._hand_over(action, charges, now, today)
        if action.channel == "task":
            due_on = today + timedelta(days=1)
            task_id = self.adapter.create_task(
                task_for(action, self.policy, today, due_on)
            )
            return {"task_id": task_id}
        assert action.step.note is not None
        text = render_text(action.step.note, action, self.policy, today)
        note_id = self.adapter.write_note(note_for(action, self.policy, now, {}, text))
        return {"note_id": note_id}

    def _send_letter(
        self,
        action: PlannedAction,
        sender: Sender | None,
        charges: Charges,
        now: datetime,
        today: date,
    ) -> dict[str, Any]:
        content = letter_content(action, self.policy, charges, today)
        pdf = render_letter(content)
        folder = self.policy.print_dir()
        by_post = action.step.delivery == "post"
        name = f"{today.isoformat()}-{action.step.letter}-{action.key[:12]}.pdf"
        path = (folder if by_post else folder / "sent") / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(pdf)
        result: dict[str, Any] = {
            "letter": action.step.letter,
            "delivery": action.step.delivery,
            "file": str(path),
            **charges.ledger_record(),
        }
        if by_post:
            lines = [*action.debtor.address.lines, action.debtor.address.postcode]
            result["address"] = " ".join([*lines, action.debtor.address.city]).strip()
        else:
            if sender is None:
                raise ChannelFailed("a letter by email needs the email channel")
            extra = {"letter_subject": letter_subject(content)}
            message = render_email(
                action,
                self.policy,
                self.renderer,
                today,
                charges,
                template="letter",
                extra=extra,
            )
            attachment = (name, pdf, "application/pdf")
            email = build_email(action, message, self.policy, now, (attachment,))
            result["message_id"] = sender.send(email)
            result["to"] = list(email.to)
            result["subject"] = email.subject
            result["accepted_at"] = self.clock().isoformat()
        document = self._store_letter(action, name, pdf)
        if document:
            result["document"] = document
        if content.fourteen_day is not None:
            term = letter_term(action, today)
            result["received_on"] = term.received_on.isoformat()
            result["last_day"] = term.last_day.isoformat()
            result["costs_chargeable_from"] = term.costs_chargeable_from.isoformat()
            result["costs_stated"] = str(content.fourteen_day.costs_if_unpaid.total)
        return result

    def _store_letter(self, action: PlannedAction, name: str, pdf: bytes) -> str:
        """Keep the letter with the debtor in the books, where the source can."""
        store = getattr(self.adapter, "store_document", None)
        if store is None:
            return ""
        keys = tuple(i.key for i in action.invoices)
        try:
            return str(store(action.key, action.debtor.key, keys, name, pdf))
        except DunningError as exc:
            # The letter went out; a copy missing in the books is no reason to
            # send it again. The ledger keeps the file path either way.
            log.warning(
                "letter_not_stored",
                source=self.source,
                action=action.key,
                error=str(exc),
            )
            return ""

    def _hand_over(
        self, action: PlannedAction, charges: Charges, now: datetime, today: date
    ) -> dict[str, Any]:
        assert action.step.handover is not None
        agency = self.policy.agencies[action.step.handover]
        keys = {i.key for i in action.invoices}
        history = [
            record
            for record in self.ledger.find(
                source=self.source, debtor_key=action.debtor.key
            )
            if keys.intersection(record.invoice_keys)
        ]
        dossier = make_dossier(action, self.policy, charges, history, today)
        where = deliver(dossier, agency, self.policy, self.store_secret)
        for invoice in action.invoices:
            self.store.holds.add(
                self.source,
                HoldKind.HANDOVER,
                f"handed over to {action.step.handover}",
                "dunning",
                now,
                invoice_key=invoice.key,
            )
        return {"agency": action.step.handover, **where, **charges.ledger_record()}

    def _invoice_copies(
        self, action: PlannedAction
    ) -> tuple[tuple[str, bytes, str], ...]:
        """Copies of the invoices, when the step asks and the source offers them."""
        download = getattr(self.adapter, "download_pdf", None)
        if "invoices" not in action.step.attach or download is None:
            return ()
        return tuple(
            (f"{invoice.number}.pdf", download(invoice.key), "application/pdf")
            for invoice in action.invoices
        )

    def _defer(
        self,
        record: ActionRecord,
        error: str,
        now: datetime,
        counts: Counter[str],
        *,
        from_sending: bool,
    ) -> None:
        attempts = record.attempts if from_sending else record.attempts + 1
        states = [State.SENDING] if from_sending else [State.PENDING, State.DEFERRED]
        if attempts >= MAX_ATTEMPTS:
            self.ledger.transition(
                record.key, states, State.FAILED, now, error=error, attempts=attempts
            )
            counts["failed"] += 1
            log.error(
                "action_failed", source=self.source, action=record.key, error=error
            )
            return
        retry_at = now + RETRY_BASE * (2 ** (attempts - 1))
        self.ledger.transition(
            record.key,
            states,
            State.DEFERRED,
            now,
            error=error,
            attempts=attempts,
            next_attempt_at=retry_at,
        )
        counts["deferred"] += 1
        log.warning(
            "action_deferred",
            source=self.source,
            action=record.key,
            error=error,
            retry_at=retry_at.isoformat(),
        )

    def _fail(
        self, record: ActionRecord, error: str, now: datetime, counts: Counter[str]
    ) -> None:
        self.ledger.transition(
            record.key, [State.SENDING], State.FAILED, now, error=error
        )
        counts["failed"] += 1
        log.error("action_failed", source=self.source, action=record.key, error=error)


def _needs_mailer(action: PlannedAction) -> bool:
    by_email = action.channel == "letter" and action.step.delivery == "email"
    return action.channel == "email" or by_email


def _closed_reason(status: InvoiceStatus) -> str:
    return {
        InvoiceStatus.PAID: "paid",
        InvoiceStatus.CREDITED: "credited",
        InvoiceStatus.DELETED: "deleted at the source",
        InvoiceStatus.UNCOLLECTIBLE: "marked uncollectible",
    }.get(status, f"no longer open ({status.value})")


def _action_record(
    action: PlannedAction,
    state: State,
    today: date,
    payload: dict[str, Any],
    *,
    reason: str | None = None,
) -> ActionRecord:
    return ActionRecord(
        key=action.key,
        source=action.source,
        debtor_key=action.debtor.key,
        plan=action.plan,
        step_id=action.step.id,
        channel=action.channel,
        state=state,
        scheduled_on=action.scheduled_on,
        taken_on=today,
        invoice_amounts=tuple((i.key, i.open_amount) for i in action.invoices),
        late=action.late,
        payload=payload,
        reason=reason,
    )
