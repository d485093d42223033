"""Realistic, reproducible administrations for the emulator."""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from decimal import Decimal

from adapters.exact.emulator.clock import FakeClock, SystemClock
from adapters.exact.emulator.state import EmulatorState

_COMPANIES = (
    "Bakkerij De Gouden Korst B.V.",
    "Van Dijk Installatietechniek",
    "Hoveniersbedrijf Groen & Zo",
    "Studio Noord V.O.F.",
    "Transportbedrijf Mulder B.V.",
    "Café Het Hoekje",
    "Brouwer Advies",
    "Dekker Bouw B.V.",
)
_PEOPLE = ("Anna de Vries", "Sem Jansen", "Lotte Bakker", "Daan Visser", "Eva Smit")
_CITIES = ("Utrecht", "Amersfoort", "Zwolle", "Haarlem", "Gent", "Leuven")


def generate_administration(
    receivables: int = 300,
    seed: int = 1,
    today: date | None = None,
    divisions: tuple[int, ...] = (1234567, 7654321),
    clock: FakeClock | SystemClock | None = None,
) -> EmulatorState:
    """An emulator state with customers and invoices in every division.

    The first division gets ``receivables`` invoices, the others a tenth as
    many. ``/Me`` reports the last division as the current one, like a user
    who last worked in another company.
    """
    state = EmulatorState(clock=clock)
    rng = random.Random(seed)
    day = today or state.now().date()
    for position, code in enumerate(divisions):
        state.add_division(code, f"Administratie {code}")
        count = receivables if position == 0 else max(1, receivables // 10)
        _fill(state, code, count, rng, day)
    state.current_division = divisions[-1]
    return state


def _fill(
    state: EmulatorState, division: int, count: int, rng: random.Random, today: date
) -> None:
    accounts = [_account(state, division, n, rng) for n in range(max(3, count // 3))]
    first_number = (today.year % 100) * 1_000_000 + 700_000
    for n in range(count):
        account = rng.choice(accounts)
        issued = today - timedelta(days=rng.randint(1, 120))
        amount = Decimal(rng.randint(2_500, 250_000)) / 100
        kind = rng.random()
        if kind < 0.05:
            amount = -amount  # a credit note, open until it is used
        entry = state.add_invoice(
            division,
            account,
            first_number + n,
            amount,
            invoice_date=issued,
            due_date=issued + timedelta(days=rng.choice((14, 30))),
            currency="EUR" if rng.random() < 0.9 else rng.choice(("USD", "GBP")),
            entry_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        )
        paid_on = min(today, issued + timedelta(days=rng.randint(5, 40)))
        if 0.05 <= kind < 0.20:
            state.pay(division, entry, amount, paid_on)
        elif 0.20 <= kind < 0.30:
            state.pay(division, entry, (amount / 2).quantize(Decimal("0.01")), paid_on)
    _payables(state, division, accounts[0], today)


def _account(state: EmulatorState, division: int, n: int, rng: random.Random) -> str:
    person = rng.random() < 0.3
    name = rng.choice(_PEOPLE) if person else rng.choice(_COMPANIES)
    slug = name.split()[0].lower()
    return state.add_account(
        division,
        name if person else f"{name} ({n})",
        ID=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        Code=str(1000 + n),
        Email=f"{slug}{n}@example.nl",
        Language=rng.choice(("NL", "NL", "EN")).ljust(10),
        City=rng.choice(_CITIES),
        AddressLine1=f"Dorpsstraat {n + 1}",
        Postcode=f"{3500 + n} AB",
        VATNumber=None if person else f"NL{800000000 + n}B01",
        ChamberOfCommerce=None if person else str(30000000 + n),
    )


def _payables(state: EmulatorState, division: int, account: str, today: date) -> None:
    """A couple of supplier terms: the sync feed holds them too (LineType 22)."""
    for n in range(2):
        state.add_invoice(
            division,
            account,
            900 + n,
            Decimal("99.00"),
            invoice_date=today - timedelta(days=10),
            due_date=today + timedelta(days=20),
            line_type=22,
        )
