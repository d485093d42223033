"""The domain: debtors, invoices, payments and money, free of any bookkeeping API."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

CENT = Decimal("0.01")
#: No invoice is this large; a larger number in a record is garbage, not money.
MAX_AMOUNT = Decimal("1e15")


class DebtorKind(enum.StrEnum):
    """Whether a debtor is a consumer or a business; the law treats them apart."""

    PERSON = "person"
    BUSINESS = "business"


class InvoiceStatus(enum.StrEnum):
    """Where an invoice stands at its source."""

    OPEN = "open"
    PAID = "paid"
    CREDITED = "credited"
    DELETED = "deleted"
    UNCOLLECTIBLE = "uncollectible"


class HoldKind(enum.StrEnum):
    """Why the connector must leave an invoice or a debtor alone for now."""

    DISPUTE = "dispute"
    PAUSE = "pause"
    PROMISE = "promise"
    ARRANGEMENT = "arrangement"
    HANDOVER = "handover"


#: Dates a source may give; outside them a record is garbage (and date sums overflow).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)


def is_day(value: date) -> bool:
    """Whether a date read from a source is one an invoice can have."""
    return FIRST_DAY <= value <= LAST_DAY


def is_amount(value: Decimal) -> bool:
    """Whether a number read from a source can be money: finite and not absurd."""
    if not value.is_finite() or abs(value) >= MAX_AMOUNT:
        return False
    return int(value.normalize().as_tuple().exponent) >= -6


@dataclass(frozen=True, slots=True)
class Money:
    """An amount with its currency; arithmetic refuses to mix currencies."""

    amount: Decimal
    currency: str

    def __add__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._check(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> Money:
        return Money(-self.amount, self.currency)

    def _check(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot mix {self.currency} and {other.currency}")

    def cents(self) -> Money:
        """Round half up to whole cents, as documents show money."""
        return Money(
            self.amount.quantize(CENT, rounding="ROUND_HALF_UP"), self.currency
        )

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency)


@dataclass(frozen=True, slots=True)
class Address:
    """A postal address for letters."""

    lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    country: str = "NL"


@dataclass(frozen=True, slots=True)
class Debtor:
    """A customer who owes money, as the source knows them."""

    key: str
    name: str
    kind: DebtorKind
    emails: tuple[str, ...] = ()
    language: str | None = None
    tags: frozenset[str] = frozenset()
    customer_number: str = ""
    contact_person: str = ""
    address: Address = field(default_factory=Address)


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received against one invoice."""

    key: str
    paid_on: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Invoice:
    """A sales invoice (or, with a negative total, a credit note).

    `open_amount` is what the source says is still unpaid; for a credit note it is
    negative while the credit has not been used.
    """

    key: str
    debtor_key: str
    number: str
    issue_date: date
    due_date: date
    currency: str
    total: Decimal
    open_amount: Decimal
    status: InvoiceStatus = InvoiceStatus.OPEN
    payments: tuple[Payment, ...] = ()
    paused_at_source: bool = False
    pay_url: str = ""
    #: Paid at the source, but costs and interest took part of the payment (art.
    #: 6:44 BW): ``open_amount`` is what is still owed of the principal.
    residual_claim: bool = False

    @property
    def is_credit_note(self) -> bool:
        return self.total < 0

    @property
    def is_open(self) -> bool:
        return self.status is InvoiceStatus.OPEN and self.open_amount != 0

    @property
    def open(self) -> Money:
        return Money(self.open_amount, self.currency)


@dataclass(frozen=True, slots=True)
class Instalment:
    """One agreed payment of an arrangement."""

    due_on: date
    amount: Decimal


#: Days an instalment may be late before the arrangement counts as broken.
INSTALMENT_GRACE_DAYS = 3


@dataclass(frozen=True, slots=True)
class Hold:
    """A local reason to leave an invoice (or all of a debtor's invoices) alone.

    Holds live in the state store only, so no re-sync from the source can undo them.
    `until` is the last day of the hold, if it ends by itself (a promise to pay
    ends on the promised day). An arrangement holds while its instalments are
    paid: one missed by more than the grace days ends it, and the plan resumes.
    """

    id: int
    kind: HoldKind
    reason: str
    set_by: str
    invoice_key: str | None = None
    debtor_key: str | None = None
    until: date | None = None
    instalments: tuple[Instalment, ...] = ()

    def in_force(self, invoice: Invoice, today: date) -> bool:
        """Whether the hold still stops the plan for this invoice today."""
        if self.until is not None and today > self.until:
            return False
        if self.kind is HoldKind.ARRANGEMENT and self.instalments:
            return not self.missed_instalment(invoice, today)
        return True

    def missed_instalment(self, invoice: Invoice, today: date) -> bool:
        """Whether less was paid than the instalments due by now (with grace)."""
        grace = timedelta(days=INSTALMENT_GRACE_DAYS)
        owed = sum(
            (i.amount for i in self.instalments if i.due_on + grace < today), Decimal(0)
        )
        # The instalments add up to what was open when they were agreed, so
        # what was paid since is their sum less what is open now; payments
        # made before the arrangement do not count towards it.
        agreed = sum((i.amount for i in self.instalments), Decimal(0))
        paid = agreed - invoice.open_amount
        return paid < owed
