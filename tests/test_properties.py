"""Generated hostile input never escapes a boundary as anything but our own errors.

Each property counts the inputs it tried in ``INPUTS_TRIED``; the session prints
the counts at the end.
"""

from __future__ import annotations

import csv
import email.policy
import io
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.csv import mapping as csv_mapping
from adapters.exact import mapping as exact_mapping
from adapters.moneybird import mapping as moneybird_mapping
from connector.channels.email import OutgoingEmail, build_message
from connector.domain import (
    FIRST_DAY,
    LAST_DAY,
    Debtor,
    DebtorKind,
    Invoice,
    InvoiceStatus,
)
from connector.errors import ChannelFailed, ConfigError, FatalSourceError, RecordError
from connector.planner import plan_actions
from connector.policy import Policy, check_policy
from connector.render import TemplateRenderer
from connector.store import State, StepRecord
from tests.channels import samples
from tests.conftest import INPUTS_TRIED
from tests.factories import DEFAULT_STEPS, TEMPLATES, make_policy, policy_text

FEW = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
MANY = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# -- hostile values -----------------------------------------------------------

ODD_TEXT = st.sampled_from(
    [
        "",
        " ",
        "\n",
        "\r\n",
        "a\r\nBcc: victim@evil.example",
        "x\nSubject: hijacked",
        "\x00",
        "\x1b[31m",
        "\u2028\u2029\x85",
        "\ufeff",
        "naïve café 東京 🧾",
        "<script>alert(1)</script>",
        '"><ScRiPt src=//evil.example/x.js></sCrIpT>',
        "{{ 7*7 }}",
        "{% raw %}",
        "'; DROP TABLE actions; --",
        "NaN",
        "-Infinity",
        "1e999999999",
        "9" * 400,
        "-0",
        "0000-00-00",
        "9999-12-31",
        "0001-01-01",
        "2026-02-30",
        "31-12-9999",
        "EUR",
        "eur",
        "XXX",
        "€",
        "@",
        "a@b",
        "a@b\n.example",
        "=?utf-8?q?=0D=0ABcc:_x@evil.example?=",
    ]
)
TEXT = st.one_of(ODD_TEXT, st.text(max_size=40))
SCALAR = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    # JSON gives quiet NaN at most; a signalling one comes from no parser.
    st.decimals(allow_nan=True, allow_infinity=True).filter(lambda d: not d.is_snan()),
)
ANY_VALUE = st.one_of(
    SCALAR,
    st.lists(SCALAR, max_size=3),
    st.dictionaries(st.text(max_size=5), SCALAR, max_size=3),
)


def count(name: str) -> None:
    INPUTS_TRIED[name] += 1


# -- policy files ---------------------------------------------------------------

SKELETON: dict[str, Any] = yaml.safe_load(policy_text())


def _paths(data: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _paths(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _paths(value, (*path, index))


SKELETON_PATHS = [p for p in _paths(SKELETON) if p]
YAML_VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False),
    st.lists(TEXT, max_size=3),
    st.dictionaries(TEXT, TEXT, max_size=3),
)


def _mutate(data: Any, path: tuple[Any, ...], value: Any, delete: bool) -> Any:
    """A deep copy of `data` with the value at `path` replaced or removed."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(data, dict):
        copy = dict(data)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _mutate(data[head], rest, value, delete)
        return copy
    items = list(data)
    if delete and not rest:
        del items[head]
    else:
        items[head] = _mutate(items[head], rest, value, delete)
    return items


@st.composite
def policy_files(draw: st.DrawFn) -> str:
    """A valid skeleton with values replaced or removed, or random text."""
    kind = draw(st.sampled_from(["mutated", "mutated", "text", "spliced"]))
    if kind == "text":
        return draw(st.text(max_size=300))
    data: Any = SKELETON
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(SKELETON_PATHS))
        try:
            data = _mutate(data, path, draw(YAML_VALUE), draw(st.booleans()))
        except (KeyError, IndexError, TypeError):
            continue  # an earlier change removed this path
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()))
    if kind == "spliced":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(TEXT) + text[at:]
    return text


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as folder:
        yield Path(folder)


@MANY
@given(text=policy_files())
def test_check_policy_returns_located_errors_for_any_file(scratch, text):
    count("policy files -> check_policy")
    path = scratch / "dunning.yaml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")

    policy, problems = check_policy(path, secrets=lambda name: "value")

    assert policy is not None or problems
    for problem in problems:
        assert isinstance(problem, ConfigError)
        assert problem.file == str(path)
        assert isinstance(problem.line, int) and problem.line >= 1, str(problem)


# -- CSV rows -------------------------------------------------------------------

VALID_ROW = {
    "invoice_id": "INV-1",
    "invoice_number": "2026-001",
    "debtor_id": "D-1",
    "debtor_name": "Bakkerij de Vries",
    "debtor_kind": "business",
    "email": "ap@debtor.example",
    "language": "nl",
    "tags": "key-account",
    "customer_number": "1042",
    "contact_person": "J. de Vries",
    "address": "Dorpsstraat 1",
    "postcode": "1234 AB",
    "city": "Utrecht",
    "country": "NL",
    "issue_date": "2026-11-03",
    "due_date": "2026-12-03",
    "currency": "EUR",
    "total": "1.210,00",
    "open_amount": "1210.00",
    "pay_url": "https://pay.example/1",
}


@st.composite
def csv_rows(draw: st.DrawFn) -> dict[str, str]:
    """A valid row with some columns emptied, dropped or made hostile."""
    row = dict(VALID_ROW)
    for column in draw(st.lists(st.sampled_from(sorted(VALID_ROW)), max_size=6)):
        if draw(st.integers(0, 5)) == 0:
            row.pop(column, None)
        else:
            row[column] = draw(TEXT)
    return row


@MANY
@given(fields=csv_rows())
def test_a_csv_row_maps_or_is_skipped_with_a_reason(fields):
    count("CSV rows -> debtor_from_row/invoice_from_row")
    for build in (csv_mapping.debtor_from_row, csv_mapping.invoice_from_row):
        try:
            result = build(fields)
        except RecordError as exc:
            assert str(exc)
        else:
            assert isinstance(result, Debtor | Invoice)


@FEW
@given(rows=st.lists(csv_rows(), max_size=4), delimiter=st.sampled_from(",;\t"))
def test_an_open_items_file_maps_every_row_or_skips_it(rows, delimiter):
    count("CSV files -> read_open_items")
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter)
    writer.writerow(list(VALID_ROW))
    writer.writerows([[row.get(c, "") for c in VALID_ROW] for row in rows])

    try:
        items = csv_mapping.read_open_items(out.getvalue())
    except FatalSourceError as exc:  # the whole file is unusable: said so
        assert str(exc)
        return
    assert len(items.invoices) + len(items.skipped) <= len(rows)
    assert all(reason for _, reason in items.skipped)


# -- Moneybird records ------------------------------------------------------------

MB_INVOICE = {
    "id": "474244267742594986",
    "contact_id": "474244267701700516",
    "invoice_id": "2026-0001",
    "state": "open",
    "currency": "EUR",
    "total_price_incl_tax": "363.0",
    "total_unpaid": "363.0",
    "invoice_date": "2026-11-03",
    "due_date": "2026-12-03",
    "payment_url": "https://pay.example/1",
    "paused": False,
    "payments": [],
}
MB_CONTACT = {
    "id": "474244267701700516",
    "company_name": "Bakkerij de Vries",
    "firstname": "Jan",
    "lastname": "de Vries",
    "email": "ap@debtor.example",
    "send_invoices_to_email": "",
    "attention": "",
    "address1": "Dorpsstraat 1",
    "address2": "",
    "zipcode": "1234 AB",
    "city": "Utrecht",
    "country": "NL",
    "customer_id": "1042",
}
MB_STATES = st.sampled_from(["open", "late", "paid", "draft", "uncollectible", "?"])
MB_PAYMENT = st.one_of(
    ANY_VALUE,
    st.fixed_dictionaries(
        {"id": SCALAR, "payment_date": SCALAR, "price": SCALAR},
        optional={"credit_invoice_id": SCALAR},
    ),
)


@st.composite
def changed(draw: st.DrawFn, base: dict[str, Any], extra: dict[str, Any]) -> dict:
    record = dict(base)
    for key in draw(st.lists(st.sampled_from(sorted(base)), max_size=5)):
        if draw(st.integers(0, 4)) == 0:
            record.pop(key, None)
        else:
            record[key] = draw(extra.get(key, ANY_VALUE))
    return record


@MANY
@given(
    record=changed(
        MB_INVOICE, {"state": MB_STATES, "payments": st.lists(MB_PAYMENT, max_size=3)}
    )
)
def test_a_moneybird_invoice_maps_or_raises_record_error(record):
    count("Moneybird invoices -> invoice_from")
    try:
        invoice = moneybird_mapping.invoice_from(record)
    except RecordError as exc:
        assert str(exc)
    else:
        assert isinstance(invoice, Invoice)


@MANY
@given(record=changed(MB_CONTACT, {}), language=st.one_of(st.none(), TEXT))
def test_a_moneybird_contact_maps_or_raises_record_error(record, language):
    count("Moneybird contacts -> debtor_from")
    try:
        debtor = moneybird_mapping.debtor_from(record, language=language)
    except RecordError as exc:
        assert str(exc)
    else:
        assert isinstance(debtor, Debtor)


# -- Exact rows ---------------------------------------------------------------------

EXACT_TERM = {
    "ID": "5f0c2e9a-0000-4000-8000-000000000001",
    "TransactionEntryID": "5f0c2e9a-0000-4000-8000-00000000e001",
    "TransactionType": 20,
    "Currency": "EUR",
    "IsFullyPaid": False,
    "DueDate": "/Date(1796342400000)/",
    "InvoiceDate": "/Date(1793750400000)/",
    "LastPaymentDate": None,
    "AmountFC": Decimal("1210.00"),
    "TransactionAmountFC": Decimal("1210.00"),
    "Account": "5f0c2e9a-0000-4000-8000-00000000a001",
    "InvoiceNumber": 26001,
    "EntryNumber": 26001,
}
EXACT_ACCOUNT = {
    "ID": "5f0c2e9a-0000-4000-8000-00000000a001",
    "Name": "Bakkerij de Vries",
    "Email": "ap@debtor.example",
    "VATNumber": "NL001234567B01",
    "ChamberOfCommerce": "",
    "Language": "NL",
    "Code": "  1042",
    "AddressLine1": "Dorpsstraat 1",
    "Postcode": "1234 AB",
    "City": "Utrecht",
    "Country": "NL ",
}
ODATA_DATE = st.one_of(
    st.integers(min_value=-(10**20), max_value=10**20).map(lambda n: f"/Date({n})/"),
    ANY_VALUE,
)
EXACT_EXTRA = {
    "TransactionType": st.one_of(st.sampled_from([20, 21, 40]), ANY_VALUE),
    "DueDate": ODATA_DATE,
    "InvoiceDate": ODATA_DATE,
    "LastPaymentDate": ODATA_DATE,
    "IsFullyPaid": st.one_of(st.booleans(), ANY_VALUE),
}


@MANY
@given(terms=st.lists(changed(EXACT_TERM, EXACT_EXTRA), min_size=1, max_size=3))
def test_exact_terms_map_or_raise_record_error(terms):
    count("Exact terms -> invoice_from_terms")
    try:
        invoice = exact_mapping.invoice_from_terms("e1", terms)
    except RecordError as exc:
        assert str(exc)
    else:
        assert isinstance(invoice, Invoice)


@FEW
@given(row=changed(EXACT_ACCOUNT, {}), bill_to=st.one_of(st.none(), ANY_VALUE))
def test_an_exact_account_maps_or_raises_record_error(row, bill_to):
    count("Exact accounts -> debtor_from_account")
    bill_to = bill_to if isinstance(bill_to, dict) or bill_to is None else None
    try:
        debtor = exact_mapping.debtor_from_account(row, bill_to)
    except RecordError as exc:
        assert str(exc)
    else:
        assert isinstance(debtor, Debtor)


# -- the planner ------------------------------------------------------------------

START = date(2026, 11, 2)


@pytest.fixture(scope="module")
def plan_policy(scratch: Path) -> Policy:
    steps = DEFAULT_STEPS + (
        "    - {id: small, after: 12 days past due, note: 'small',"
        " when: {min_open_amount: 50}}\n"
        "    - {id: demand, after: 2 business days after second, email: demand}\n"
    )
    folder = scratch / "planner"
    folder.mkdir()
    return make_policy(folder, steps)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[dict[str, Debtor], list[Invoice]]:
    """Random valid debtors and invoices, credit notes and closed ones among them."""
    debtors = {}
    for index in range(draw(st.integers(1, 4))):
        key = f"d{index}"
        emails = draw(st.sampled_from([(), ("ap@d.example",), ("a@d.example", "b@x")]))
        kind = draw(st.sampled_from(list(DebtorKind)))
        debtors[key] = Debtor(key, f"Debtor {index}", kind, emails, "nl")
    invoices = []
    for index in range(draw(st.integers(0, 12))):
        total = draw(st.decimals(-1000, 100_000, places=2, allow_nan=False))
        open_amount = total * draw(st.sampled_from([0, 1, Decimal("0.5")]))
        due = draw(
            st.one_of(
                st.integers(-400, 60).map(lambda n: START + timedelta(days=n)),
                st.dates(FIRST_DAY, LAST_DAY),  # any date a mapping lets through
            )
        )
        invoices.append(
            Invoice(
                key=f"i{index}",
                debtor_key=draw(st.sampled_from([*debtors, "unknown"])),
                number=f"2026-{index:04}",
                issue_date=due - timedelta(days=30),
                due_date=due,
                currency=draw(st.sampled_from(["EUR", "EUR", "USD"])),
                total=total,
                open_amount=open_amount,
                status=draw(st.sampled_from(list(InvoiceStatus))),
            )
        )
    return debtors, invoices


@FEW
@given(world=ledgers(), days=st.integers(1, 40))
def test_the_planner_never_plans_a_step_twice_for_one_invoice(plan_policy, world, days):
    count("random invoices -> plan_actions over days")
    debtors, invoices = world
    progress: dict[str, dict[str, StepRecord]] = {}
    planned: set[tuple[str, str]] = set()
    for offset in range(0, days * 3, 3):
        today = START + timedelta(days=offset)
        plan = plan_actions("acme", debtors, invoices, (), progress, plan_policy, today)
        for action in plan.actions:
            for invoice in action.invoices:
                pair = (invoice.key, action.step.id)
                assert pair not in planned, pair
                planned.add(pair)
                progress.setdefault(invoice.key, {})[action.step.id] = StepRecord(
                    State.DONE, today
                )


# -- rendering --------------------------------------------------------------------

RENDERER = TemplateRenderer(TEMPLATES, "nl")


@MANY
@given(
    name=TEXT,
    contact=TEXT,
    message=st.sampled_from(["reminder", "second_reminder", "demand"]),
    language=st.sampled_from(["nl", "en"]),
)
def test_hostile_debtor_names_render_escaped(name, contact, message, language):
    count("hostile names -> render")
    context = samples.context(debtor_name=name, contact_person=contact)

    rendered = RENDERER.render(message, language, context)

    assert rendered.html is not None
    assert "<script" not in rendered.html.lower()
    assert "\n" not in rendered.subject and "\r" not in rendered.subject


# -- building email ------------------------------------------------------------------

HEADERS = {
    "From",
    "To",
    "Reply-To",
    "Subject",
    "Date",
    "Message-ID",
    "X-Dunning-Action",
    "Auto-Submitted",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
}
ADDRESS = st.one_of(
    TEXT,
    st.sampled_from(["ap@debtor.example", "Jan <jan@d.example>", "x@y.z\r\nBcc: v@e"]),
    st.builds(lambda a, b: f"{a}@{b}.example", TEXT, TEXT),
)


@MANY
@given(
    subject=TEXT,
    sender_name=TEXT,
    to=st.lists(ADDRESS, min_size=1, max_size=3),
    reply_to=st.one_of(st.none(), ADDRESS),
    text=TEXT,
)
def test_build_message_refuses_or_injects_no_header(
    subject, sender_name, to, reply_to, text
):
    count("hostile names and emails -> build_message")
    outgoing = OutgoingEmail(
        action_key="a1b2c3",
        message_id="<a1b2c3@acme.example>",
        to=tuple(to),
        subject=subject,
        text=text,
        html=f"<p>{text}</p>",
        sender_email="debiteuren@acme.example",
        sender_name=sender_name,
        reply_to=reply_to,
        date=datetime(2026, 12, 20, 9, tzinfo=UTC),
    )
    try:
        message = build_message(outgoing)
    except ChannelFailed as exc:
        assert str(exc)
        return

    for wire in (email.policy.default, email.policy.SMTP):
        parsed = message_from_bytes(message.as_bytes(policy=wire))
        assert set(parsed.keys()) <= HEADERS, parsed.keys()
        assert all(len(parsed.get_all(name) or []) <= 1 for name in HEADERS)
        assert parsed["X-Dunning-Action"] == "a1b2c3"
