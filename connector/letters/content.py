"""What a letter says, as plain data: the caller fills it, `render_letter` prints it.

Amounts are `Decimal` in the letter's currency. The totals are checked when the
content is built, so a letter can never show a total that is not the sum of its
lines.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from connector.errors import DunningError
from connector.law.costs import CollectionCosts
from connector.law.fourteen_day import FourteenDayTerm
from connector.law.interest import InterestResult

ZERO = Decimal("0")
LANGUAGES = ("nl", "en")
# Received on the day it is dated at the earliest; the term starts a day later.
MINIMUM_TERM = timedelta(days=14)


class LetterError(DunningError, ValueError):
    """The content of a letter is inconsistent; the letter is not made."""


class LetterKind(enum.StrEnum):
    """Which letter: each has its own subject and body."""

    REMINDER = "reminder"
    DEMAND = "demand"
    FOURTEEN_DAY = "fourteen_day"


class InterestKind(enum.StrEnum):
    """Which statutory interest: consumer (6:119) or commercial (6:119a BW)."""

    CONSUMER = "consumer"
    COMMERCIAL = "commercial"


@dataclass(frozen=True, slots=True)
class CreditorDetails:
    """Who writes: printed at the top, in the payment details and the footer."""

    name: str
    address_lines: tuple[str, ...] = ()
    email: str = ""
    phone: str = ""
    iban: str = ""
    bic: str = ""
    coc_number: str = ""
    vat_number: str = ""
    country: str = "NL"


@dataclass(frozen=True, slots=True)
class DebtorDetails:
    """Who is written to, as the envelope window shows them."""

    name: str
    contact_person: str = ""
    address_lines: tuple[str, ...] = ()
    postcode: str = ""
    city: str = ""
    country: str = "NL"
    customer_number: str = ""
    email: str = ""
    phone: str = ""
    kind: str = ""


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """One open invoice with its own open amount."""

    number: str
    issue_date: date
    due_date: date
    open_amount: Decimal
    total: Decimal | None = None


@dataclass(frozen=True, slots=True)
class CreditNoteLine:
    """One open credit note netted against the invoices; `amount` is negative."""

    number: str
    amount: Decimal
    issue_date: date | None = None


@dataclass(frozen=True, slots=True)
class LetterCosts:
    """Collection costs as a letter states them: without VAT, VAT, and why."""

    net: Decimal
    vat: Decimal = ZERO
    basis_text: str = ""

    @property
    def total(self) -> Decimal:
        """The costs including VAT."""
        return self.net + self.vat

    @classmethod
    def from_assessment(cls, costs: CollectionCosts, language: str) -> LetterCosts:
        """The costs `connector.law.costs` computed, with the basis in words."""
        from connector.letters.texts import costs_basis_text

        return cls(costs.net, costs.vat, costs_basis_text(costs.basis, language))


@dataclass(frozen=True, slots=True)
class LetterInterest:
    """Statutory interest charged over a period, at one rate if there was one."""

    amount: Decimal
    kind: InterestKind
    from_day: date
    until_day: date
    rate: Decimal | None = None

    @classmethod
    def from_result(cls, result: InterestResult) -> LetterInterest:
        """The interest `connector.law.interest` computed; one rate if it held."""
        rates = {p.percent for p in result.periods}
        return cls(
            amount=result.total,
            kind=InterestKind(result.kind.value),
            from_day=result.first_day,
            until_day=result.last_day,
            rate=rates.pop() if len(rates) == 1 else None,
        )


@dataclass(frozen=True, slots=True)
class FourteenDayNotice:
    """The term of a 14-day letter and the costs due if it passes unpaid."""

    last_day: date
    costs_if_unpaid: LetterCosts
    received_on: date | None = None

    @classmethod
    def from_term(
        cls, term: FourteenDayTerm, costs_if_unpaid: LetterCosts
    ) -> FourteenDayNotice:
        """The notice for a term computed by `connector.law.fourteen_day`."""
        return cls(term.last_day, costs_if_unpaid, term.received_on)


@dataclass(frozen=True, slots=True)
class LetterContent:
    """Everything one letter says.

    `total` is what the debtor is asked to pay now: the invoices, less the
    credit notes, plus the costs and interest charged. Left out it is computed;
    given, it must match. A 14-day letter charges no costs yet: it names the
    costs that will be due in `fourteen_day`.
    """

    kind: LetterKind
    language: str
    creditor: CreditorDetails
    debtor: DebtorDetails
    letter_date: date
    reference: str
    invoices: tuple[InvoiceLine, ...]
    credit_notes: tuple[CreditNoteLine, ...] = ()
    currency: str = "EUR"
    costs: LetterCosts | None = None
    interest: LetterInterest | None = None
    total: Decimal | None = None
    pay_url: str = ""
    pay_by: date | None = None
    payment_reference: str = ""
    fourteen_day: FourteenDayNotice | None = None

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "kind", LetterKind(self.kind))
        except ValueError:
            raise LetterError(f"unknown letter kind {self.kind!r}") from None
        object.__setattr__(self, "invoices", tuple(self.invoices))
        object.__setattr__(self, "credit_notes", tuple(self.credit_notes))
        _check(self)

    @property
    def subtotal(self) -> Decimal:
        """The invoices less the credit notes: the principal."""
        owed = sum((i.open_amount for i in self.invoices), ZERO)
        return owed + sum((c.amount for c in self.credit_notes), ZERO)

    @property
    def expected_total(self) -> Decimal:
        """The subtotal plus the costs and interest charged in this letter."""
        total = self.subtotal
        if self.costs is not None:
            total += self.costs.total
        if self.interest is not None:
            total += self.interest.amount
        return total

    @property
    def amount_due(self) -> Decimal:
        """What the letter asks the debtor to pay now."""
        return self.expected_total if self.total is None else self.total


def _check(content: LetterContent) -> None:
    """Refuse content that would print a wrong or unlawful letter."""
    if content.language not in LANGUAGES:
        raise LetterError(f"no letter texts in language {content.language!r}")
    if not content.invoices:
        raise LetterError("a letter needs at least one invoice")
    for note in content.credit_notes:
        if note.amount >= ZERO:
            raise LetterError(f"credit note {note.number} must have a negative amount")
    if content.subtotal <= ZERO:
        raise LetterError("nothing is owed after the credit notes")
    _check_fourteen_day(content)
    if content.total is not None and content.total != content.expected_total:
        raise LetterError(
            f"total {content.total} is not the sum of the lines "
            f"({content.expected_total})"
        )


def _check_fourteen_day(content: LetterContent) -> None:
    notice = content.fourteen_day
    if content.kind is not LetterKind.FOURTEEN_DAY:
        if notice is not None:
            raise LetterError("only a 14-day letter has a 14-day term")
        return
    if notice is None:
        raise LetterError("a 14-day letter needs its term and the costs to come")
    if content.costs is not None:
        raise LetterError("a 14-day letter may not charge costs before its term ends")
    if any(i.due_date >= content.letter_date for i in content.invoices):
        raise LetterError("a 14-day letter may only follow the due date (default)")
    if notice.last_day < content.letter_date + MINIMUM_TERM:
        raise LetterError("the term of a 14-day letter is shorter than 14 days")
    if notice.costs_if_unpaid.total <= ZERO:
        raise LetterError("a 14-day letter must name the costs that will be due")
