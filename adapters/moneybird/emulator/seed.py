"""Realistic Dutch books for the emulator, the same for the same seed."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from adapters.moneybird.emulator.data import (
    DOCUMENT_STYLE_ID,
    IDENTITY_ID,
    LEDGER_ACCOUNT_ID,
    OPEN_STATES,
    TAX_RATE_ID,
    WORKFLOW_ID,
    Administration,
    Record,
    money,
    public_code,
    stamp,
)

FIRST_NAMES = (
    "Jan", "Sanne", "Pieter", "Femke", "Daan", "Lotte", "Bram", "Anouk", "Joris",
    "Eva", "Thijs", "Noor", "Ruben", "Iris", "Sem", "Maud", "Willem", "Fleur",
)  # fmt: skip
LAST_NAMES = (
    ("", "Jansen"), ("de", "Vries"), ("van den", "Berg"), ("", "Bakker"),
    ("", "Visser"), ("", "Smit"), ("", "Meijer"), ("de", "Boer"), ("", "Mulder"),
    ("de", "Groot"), ("", "Bos"), ("van", "Dijk"), ("", "Dekker"), ("van", "Leeuwen"),
)  # fmt: skip
COMPANY_STEMS = (
    "Bakkerij", "Installatiebedrijf", "Hoveniers", "Drukkerij", "Schildersbedrijf",
    "Transport", "Adviesgroep", "Timmerwerken", "Kapsalon", "Autobedrijf",
)  # fmt: skip
LEGAL_FORMS = ("B.V.", "V.O.F.", "", "Holding B.V.")
STREETS = (
    "Hoofdstraat", "Kerkstraat", "Dorpsstraat", "Molenweg", "Stationsweg",
    "Schoolstraat", "Julianalaan", "Wilhelminastraat", "Industrieweg", "Nieuwe Gracht",
)  # fmt: skip
CITIES = (
    "Amsterdam", "Rotterdam", "Utrecht", "Eindhoven", "Groningen", "Zwolle",
    "Haarlem", "Nijmegen", "Breda", "Leeuwarden", "Den Haag", "Apeldoorn",
)  # fmt: skip
SERVICES = (
    "Onderhoud installatie", "Advieswerkzaamheden", "Levering materialen",
    "Drukwerk folders", "Schilderwerk gevel", "Transport pallets", "Licentie",
)  # fmt: skip
STATE_WEIGHTS = (("paid", 6), ("draft", 1), ("uncollectible", 1))
OPEN_WEIGHTS = (("open", 4), ("late", 3), ("reminded", 2), ("pending_payment", 1))


def generate_administration(
    invoices: int = 300,
    seed: int = 1,
    today: date | None = None,
    *,
    open_share: float = 0.5,
    administration_id: str = "123456789012345678",
) -> Administration:
    """An administration with ``invoices`` sales invoices over about a third as
    many contacts; ``round(invoices * open_share)`` of them are open."""
    rng = random.Random(seed)
    admin = Administration(id=administration_id, today=today or date.today())
    contacts = [build_contact(admin, rng, n) for n in range(max(1, invoices // 3))]
    for contact in contacts:
        admin.contacts[contact["id"]] = contact
    opened = set(rng.sample(range(invoices), round(invoices * open_share)))
    for n in range(invoices):
        weights = OPEN_WEIGHTS if n in opened else STATE_WEIGHTS
        state = rng.choices([s for s, _ in weights], [w for _, w in weights])[0]
        _seed_invoice(admin, rng, rng.choice(contacts), n, state)
    return admin


def _seed_invoice(
    admin: Administration, rng: random.Random, contact: Record, n: int, state: str
) -> None:
    days = rng.choice((14, 14, 30, 30, 8))
    if state == "open":
        issued = admin.today - timedelta(days=rng.randint(0, days - 1))
    else:
        issued = admin.today - timedelta(days=rng.randint(days + 1, days + 120))
    credit = state in OPEN_STATES and rng.random() < 0.04
    total = Decimal(rng.randint(2500, 450000)) / 100
    invoice = build_invoice(
        admin,
        contact,
        number=f"{issued.year}-{n + 1:04d}",
        state="open" if state in ("paid", "uncollectible") else state,
        issued=issued,
        days=days,
        total=-total if credit else total,
    )
    admin.invoices[invoice["id"]] = invoice
    if state == "paid":
        admin.add_payment(invoice["id"], total, issued + timedelta(days=days - 2))
    elif state == "uncollectible":
        invoice["state"] = "uncollectible"
        invoice["marked_uncollectible_on"] = admin.today.isoformat()
    elif state in ("late", "reminded") and not credit and rng.random() < 0.2:
        part = (total * Decimal(rng.choice(("0.25", "0.5")))).quantize(Decimal("0.01"))
        admin.add_payment(invoice["id"], part, issued + timedelta(days=days))
    if state == "reminded":
        invoice["reminder_count"] = rng.randint(1, 2)


def build_contact(admin: Administration, rng: random.Random, n: int) -> Record:
    """A business (about two in three) or a private person, Dutch style."""
    first = rng.choice(FIRST_NAMES)
    infix, last = rng.choice(LAST_NAMES)
    lastname = f"{infix} {last}".strip()
    business = rng.random() < 0.65
    company = ""
    if business:
        company = f"{rng.choice(COMPANY_STEMS)} {last} {rng.choice(LEGAL_FORMS)}"
    domain = f"{(last if business else 'mail').lower()}{n}.example.nl"
    email = f"{'info' if business else first.lower()}@{domain}"
    invoices_to = email
    roll = rng.random()
    if roll < 0.2:
        invoices_to = f"facturen@{domain}"
    elif roll < 0.3:
        invoices_to = f"crediteuren@{domain}, {first.lower()}@{domain}"
    moment = stamp(admin.now())
    empty: str | None = "" if n % 4 else None  # both styles of "nothing"
    contact_id = admin.new_id()
    return {
        "id": contact_id,
        "administration_id": admin.id,
        "company_name": company,
        "firstname": first,
        "lastname": lastname,
        "address1": f"{rng.choice(STREETS)} {rng.randint(1, 180)}",
        "address2": "Postbus 12" if business and rng.random() < 0.1 else empty,
        "zipcode": f"{rng.randint(1011, 9999)} {rng.choice('ABCDEHJKLMNPRS')}"
        f"{rng.choice('ABCDEHJKLMNPRS')}",
        "city": rng.choice(CITIES),
        "country": "NL" if rng.random() < 0.95 else "BE",
        "phone": f"06-{rng.randint(10000000, 99999999)}",
        "delivery_method": "Email",
        "customer_id": str(1000 + n),
        "tax_number": f"NL{rng.randint(10**8, 10**9 - 1)}B01" if business else empty,
        "chamber_of_commerce": str(rng.randint(10**7, 10**8 - 1))
        if business
        else empty,
        "bank_account": empty,
        "is_trusted": False,
        "max_transfer_amount": None,
        "attention": f"{first} {lastname}" if business else empty,
        "email": email,
        "email_ubl": business,
        "send_invoices_to_attention": empty,
        "send_invoices_to_email": invoices_to,
        "send_estimates_to_attention": empty,
        "send_estimates_to_email": email,
        "sepa_active": False,
        "sepa_iban": empty,
        "sepa_iban_account_name": empty,
        "sepa_bic": empty,
        "sepa_mandate_id": empty,
        "sepa_mandate_date": None,
        "sepa_sequence_type": "RCUR",
        "credit_card_number": empty,
        "credit_card_reference": empty,
        "credit_card_type": None,
        "tax_number_validated_at": None,
        "tax_number_valid": None,
        "invoice_workflow_id": None,
        "estimate_workflow_id": None,
        "si_identifier": empty,
        "si_identifier_type": None,
        "moneybird_payments_mandate": False,
        "created_at": moment,
        "updated_at": moment,
        "version": int(admin.clock()),
        "sales_invoices_url": f"https://moneybird.com/{admin.id}/sales_invoices/"
        f"{public_code(admin.id, contact_id)}/all",
        "notes": [],
        "custom_fields": [],
        "contact_people": [],
        "archived": False,
        "events": [],
    }


def build_invoice(
    admin: Administration,
    contact: Record,
    *,
    number: str,
    state: str,
    issued: date,
    days: int,
    total: Decimal,
) -> Record:
    """A sales invoice with one line at 21% VAT adding up to ``total``."""
    invoice_id = admin.new_id()
    excl = (total / Decimal("1.21")).quantize(Decimal("0.01"))
    tax = total - excl
    moment = datetime.combine(issued, datetime.min.time(), UTC) + timedelta(hours=9)
    sent = state != "draft"
    due = issued + timedelta(days=days)
    code = public_code(admin.id, invoice_id)
    url = f"https://moneybird.com/{admin.id}/external/{code[:32]}/{code[32:]}/sales_invoice"
    line: dict[str, Any] = {
        "id": admin.new_id(),
        "administration_id": admin.id,
        "tax_rate_id": TAX_RATE_ID,
        "ledger_account_id": LEDGER_ACCOUNT_ID,
        "project_id": None,
        "product_id": None,
        "amount": "-1 x" if total < 0 else "1 x",
        "amount_decimal": "-1.0" if total < 0 else "1.0",
        "description": SERVICES[int(invoice_id) % len(SERVICES)],
        "price": money(abs(excl)),
        "period": None,
        "row_order": 1,
        "total_price_excl_tax_with_discount": money(excl),
        "total_price_excl_tax_with_discount_base": money(excl),
        "tax_report_reference": ["NL/1a"],
        "mandatory_tax_text": None,
        "created_at": stamp(moment),
        "updated_at": stamp(moment),
    }
    invoice: Record = {
        "id": invoice_id,
        "administration_id": admin.id,
        "contact_id": contact["id"],
        "contact_person_id": None,
        "contact_person": None,
        "invoice_id": number if sent else None,
        "recurring_sales_invoice_id": None,
        "subscription_id": None,
        "workflow_id": WORKFLOW_ID,
        "document_style_id": DOCUMENT_STYLE_ID,
        "identity_id": IDENTITY_ID,
        "draft_id": None if sent else int(invoice_id) % 1000,
        "state": state,
        "invoice_date": issued.isoformat() if sent else None,
        "due_date": due.isoformat(),
        "payment_conditions": "Wij verzoeken u het bedrag van {document.total_price} "
        "voor {document.due_date} over te maken onder vermelding van "
        "{document.payment_reference}.",
        "payment_reference": f"RF{int(invoice_id) % 97:02d}{number.replace('-', '')}",
        "short_payment_reference": f"RF{int(invoice_id) % 97:02d}",
        "reference": None,
        "language": "nl" if contact["country"] == "NL" else "en",
        "currency": "EUR",
        "discount": "0.0",
        "original_sales_invoice_id": None,
        "paused": False,
        "paid_at": None,
        "sent_at": issued.isoformat() if sent else None,
        "created_at": stamp(moment),
        "updated_at": stamp(moment),
        "public_view_code": str(int(invoice_id) % 900000 + 100000),
        "public_view_code_expires_at": stamp(moment + timedelta(days=90)),
        "version": int(moment.timestamp()),
        "details": [line],
        "payments": [],
        "total_paid": "0.0",
        "total_unpaid": money(total),
        "total_unpaid_base": money(total),
        "prices_are_incl_tax": False,
        "total_price_excl_tax": money(excl),
        "total_price_excl_tax_base": money(excl),
        "total_price_incl_tax": money(total),
        "total_price_incl_tax_base": money(total),
        "total_discount": "0.0",
        "marked_dubious_on": None,
        "marked_uncollectible_on": None,
        "reminder_count": 0,
        "next_reminder": due.isoformat() if sent else None,
        "original_estimate_id": None,
        "url": url,
        "payment_url": url,
        "custom_fields": [],
        "notes": [],
        "attachments": [],
        "events": [],
        "tax_totals": [
            {
                "tax_rate_id": TAX_RATE_ID,
                "taxable_amount": money(excl),
                "taxable_amount_base": money(excl),
                "tax_amount": money(tax),
                "tax_amount_base": money(tax),
            }
        ],
        "time_entries": [],
    }
    admin.add_event(invoice, "sales_invoice_created")
    if sent:
        admin.add_event(invoice, f"sales_invoice_state_changed_to_{state}")
    return invoice
