"""Letters for actions: the content of a PDF letter, from an action and its charges."""

from __future__ import annotations

from datetime import date

from connector.charges import Charges, costs_if_unpaid
from connector.law.fourteen_day import Delivery, FourteenDayTerm, fourteen_day_term
from connector.letters.content import (
    CreditNoteLine,
    CreditorDetails,
    DebtorDetails,
    FourteenDayNotice,
    InvoiceLine,
    LetterContent,
    LetterCosts,
    LetterInterest,
    LetterKind,
)
from connector.messages import debtor_language
from connector.planner import PlannedAction
from connector.policy import Policy

LETTER_LANGUAGES = ("nl", "en")


def delivery_of(action: PlannedAction) -> Delivery:
    """How the step's letter reaches the debtor."""
    return Delivery.POST if action.step.delivery == "post" else Delivery.EMAIL


def letter_term(action: PlannedAction, sent_on: date) -> FourteenDayTerm:
    """The 14-day term of a letter sent (or accepted for delivery) on ``sent_on``."""
    return fourteen_day_term(sent_on, delivery_of(action))


def letter_content(
    action: PlannedAction, policy: Policy, charges: Charges, today: date
) -> LetterContent:
    """Everything the step's letter says, in the debtor's language."""
    assert action.step.letter is not None
    language = debtor_language(action.debtor, policy)
    language = language if language in LETTER_LANGUAGES else "en"
    kind = LetterKind(action.step.letter)
    notice = None
    costs = interest = None
    if kind is LetterKind.FOURTEEN_DAY:
        term = letter_term(action, today)
        stated = LetterCosts.from_assessment(
            costs_if_unpaid(charges.principal, policy), language
        )
        notice = FourteenDayNotice.from_term(term, stated)
    else:
        if charges.costs is not None:
            costs = LetterCosts.from_assessment(charges.costs, language)
        if charges.interest is not None and charges.interest.total > 0:
            interest = LetterInterest.from_result(charges.interest)
    return LetterContent(
        kind=kind,
        language=language,
        creditor=_creditor(policy),
        debtor=_debtor(action),
        letter_date=today,
        reference=action.key[:12],
        invoices=tuple(
            InvoiceLine(i.number, i.issue_date, i.due_date, i.open_amount, i.total)
            for i in action.invoices
        ),
        credit_notes=tuple(
            CreditNoteLine(c.number, c.open_amount, c.issue_date)
            for c in action.credit_notes
        ),
        currency=action.currency,
        costs=costs,
        interest=interest,
        pay_url=_pay_url(action),
        payment_reference=", ".join(i.number for i in action.invoices)[:60],
        fourteen_day=notice,
    )


def _creditor(policy: Policy) -> CreditorDetails:
    sender = policy.sender
    lines = tuple(line.strip() for line in sender.address.split(",") if line.strip())
    return CreditorDetails(
        name=sender.name,
        address_lines=lines,
        email=sender.email,
        phone=sender.phone,
        iban=sender.iban,
    )


def _debtor(action: PlannedAction) -> DebtorDetails:
    debtor = action.debtor
    return DebtorDetails(
        name=debtor.name,
        contact_person=debtor.contact_person,
        address_lines=debtor.address.lines,
        postcode=debtor.address.postcode,
        city=debtor.address.city,
        country=debtor.address.country,
        customer_number=debtor.customer_number,
        email=", ".join(debtor.emails),
        kind=debtor.kind.value,
    )


def _pay_url(action: PlannedAction) -> str:
    urls = {i.pay_url for i in action.invoices if i.pay_url}
    return urls.pop() if len(urls) == 1 else ""
