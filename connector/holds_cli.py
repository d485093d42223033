"""The credit controller's holds from the command line: disputes, pauses,
promises to pay and payment arrangements. They live in the state store only, so no
re-sync from the source can undo them."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import click

from connector.domain import HoldKind, Instalment, Invoice
from connector.errors import ConfigError
from connector.planner import action_key
from connector.report import table
from connector.runtime import system_clock
from connector.settings import Settings
from connector.store import ActionRecord, State, Store


def _source(store: Store, given: str | None) -> str:
    if given:
        return given
    names = store.mirror.sources()
    if len(names) != 1:
        raise ConfigError(f"say which source with --source (known: {', '.join(names)})")
    return names[0]


def _target(
    store: Store, source: str, invoice: str | None, debtor: str | None
) -> dict[str, Any]:
    if (invoice is None) == (debtor is None):
        raise ConfigError("give an invoice (its number or key) or --debtor, not both")
    if debtor is not None:
        if store.mirror.debtor(source, debtor) is None:
            raise ConfigError(f"no debtor {debtor!r} in source {source!r}")
        return {"debtor_key": debtor}
    assert invoice is not None
    found = store.mirror.find_invoice(source, invoice)
    if found is None:
        raise ConfigError(f"no single invoice {invoice!r} in source {source!r}")
    return {"invoice_key": found.key}


source_option = click.option("--source", help="The source (needed with several).")
by_option = click.option("--by", default="cli", show_default=True, help="Who sets it.")


def register(main: click.Group, friendly: Any) -> None:
    """Add the hold commands to the ``dunning`` group."""

    @main.command()
    @click.argument("invoice", required=False)
    @click.option("--debtor", help="Hold all of this debtor's invoices.")
    @click.option("--kind", type=click.Choice(["dispute", "pause"]), default="dispute")
    @click.option("--reason", help="Why; needed to set a hold, not to release one.")
    @click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last day held.")
    @click.option(
        "--release", "release", type=int, help="Release the hold with this id."
    )
    @source_option
    @by_option
    @friendly
    def hold(
        invoice: str | None,
        debtor: str | None,
        kind: str,
        reason: str | None,
        until: Any,
        release: int | None,
        source: str | None,
        by: str,
    ) -> None:
        """Stop all actions for an invoice or a debtor: a dispute or a pause."""
        store = Store.open(Settings().state_url)
        now = system_clock()
        if release is not None:
            if not store.holds.release(release, by, now):
                raise ConfigError(f"no active hold with id {release}")
            click.echo(f"hold {release}: released")
            return
        if not reason:
            raise ConfigError("give a --reason for the hold")
        name = _source(store, source)
        target = _target(store, name, invoice, debtor)
        end = until.date() if until else None
        added = store.holds.add(
            name, HoldKind(kind), reason, by, now, until=end, **target
        )
        click.echo(f"hold {added.id}: {kind} on {invoice or debtor} ({reason})")

    @main.command()
    @click.argument("invoice")
    @click.option(
        "--until",
        type=click.DateTime(["%Y-%m-%d"]),
        required=True,
        help="The promised day of payment.",
    )
    @click.option("--reason", default="promise to pay", show_default=True)
    @source_option
    @by_option
    @friendly
    def promise(
        invoice: str, until: Any, reason: str, source: str | None, by: str
    ) -> None:
        """Pause an invoice until the promised day; unpaid then, the plan resumes."""
        store = Store.open(Settings().state_url)
        name = _source(store, source)
        target = _target(store, name, invoice, None)
        added = store.holds.add(
            name,
            HoldKind.PROMISE,
            reason,
            by,
            system_clock(),
            until=until.date(),
            **target,
        )
        click.echo(f"hold {added.id}: promise on {invoice} until {until.date()}")

    @main.command()
    @click.argument("invoice")
    @click.option("--instalments", type=int, required=True, help="How many payments.")
    @click.option("--first", type=click.DateTime(["%Y-%m-%d"]), required=True)
    @click.option("--every-days", type=int, default=30, show_default=True)
    @click.option("--reason", default="payment arrangement", show_default=True)
    @source_option
    @by_option
    @friendly
    def arrangement(
        invoice: str,
        instalments: int,
        first: Any,
        every_days: int,
        reason: str,
        source: str | None,
        by: str,
    ) -> None:
        """Agree instalments on an invoice; a missed instalment resumes the plan."""
        store = Store.open(Settings().state_url)
        name = _source(store, source)
        target = _target(store, name, invoice, None)
        found = store.mirror.find_invoice(name, invoice)
        assert found is not None
        schedule = split_instalments(
            found.open_amount, instalments, first.date(), every_days
        )
        added = store.holds.add(
            name,
            HoldKind.ARRANGEMENT,
            reason,
            by,
            system_clock(),
            instalments=schedule,
            **target,
        )
        rows = [
            (i.due_on.isoformat(), f"{i.amount} {found.currency}") for i in schedule
        ]
        click.echo(f"hold {added.id}: arrangement on {invoice}")
        click.echo(table(("due", "amount"), rows))

    @main.command()
    @click.argument("invoice")
    @click.option("--reason", required=True, help="Paid, written off, agreed ...")
    @source_option
    @by_option
    @friendly
    def settle(invoice: str, reason: str, source: str | None, by: str) -> None:
        """End the claim left on an invoice the books call paid (costs first)."""
        store = Store.open(Settings().state_url)
        name = _source(store, source)
        found = store.mirror.find_invoice(name, invoice)
        if found is None or not found.residual_claim:
            raise ConfigError(f"no claim is left on invoice {invoice!r} in {name!r}")
        store.mirror.set_residual(name, found.key, None)
        record_settlement(store, name, found, reason, by)
        click.echo(f"claim of {found.open_amount} on {invoice} settled ({reason})")

    @main.command()
    @source_option
    @friendly
    def holds(source: str | None) -> None:
        """The holds in force."""
        store = Store.open(Settings().state_url)
        names = [source] if source else store.mirror.sources()
        rows = [
            (
                h.id,
                name,
                h.kind.value,
                h.invoice_key or f"debtor {h.debtor_key}",
                h.until or "",
                h.reason,
                h.set_by,
            )
            for name in names
            for h in store.holds.active(name)
        ]
        headers = ("id", "source", "kind", "on", "until", "reason", "by")
        click.echo(table(headers, rows) if rows else "no holds")


def record_settlement(
    store: Store, source: str, invoice: Invoice, reason: str, by: str
) -> None:
    """The ledger's record, with a note for the books, that a claim was settled."""
    now = system_clock()
    text = (
        f"Invoice {invoice.number}: the claim of {invoice.open_amount} left after"
        f" payment is settled by {by}: {reason}."
    )
    store.ledger.record(
        ActionRecord(
            key=action_key(source, invoice.debtor_key, "settled", [invoice.key]),
            source=source,
            debtor_key=invoice.debtor_key,
            plan="",
            step_id="settled",
            channel="note",
            state=State.DONE,
            scheduled_on=now.date(),
            taken_on=now.date(),
            invoice_amounts=((invoice.key, invoice.open_amount),),
            payload={"note_text": text, "by": by},
            reason=reason,
            note_state="pending",
        ),
        now,
    )


def split_instalments(
    amount: Decimal, count: int, first: date, every_days: int
) -> tuple[Instalment, ...]:
    """Equal instalments in cents; the last one takes the rounding difference."""
    if count < 1 or every_days < 1:
        raise ConfigError("instalments and --every-days must be at least 1")
    try:
        share = (amount / count).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ConfigError(f"cannot split {amount}") from None
    amounts = [share] * (count - 1) + [amount - share * (count - 1)]
    return tuple(
        Instalment(first + timedelta(days=every_days * n), value)
        for n, value in enumerate(amounts)
    )
