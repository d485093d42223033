"""The Dutch collection rules in whole cycles: the 14-day letter, costs, interest,
payment after charges and the handover to an agency.

Each test runs cycles of a CSV source against a real store and a loopback SMTP
server with a fake clock, and checks what the mail server received (the PDF
attachments read back with pypdf), the ledger, the print and agency folders and
the journal. Every date and amount is worked out by hand in the test's comment.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
from pypdf import PdfReader

from connector.law.interest import BalanceChange, consumer_interest
from connector.store import ActionRecord, State
from tests.scenario import Scenario, local, row
from tests.smtp import Received, SmtpServer

JAN = {
    "debtor_id": "p1",
    "debtor_name": "Jan de Vries",
    "debtor_kind": "person",
    "email": "jan@devries.example",
    "language": "nl",
    "address": "Dorpsstraat 2",
    "postcode": "1234 AB",
    "city": "Utrecht",
}
BAKKERIJ = {
    "debtor_id": "d1",
    "debtor_name": "Bakkerij de Vries B.V.",
    "debtor_kind": "business",
    "email": "ap@bakkerij.example",
    "language": "nl",
}

LETTER_BY_EMAIL = """\
- {id: fourteen-day-letter, after: 10 days past due, letter: fourteen_day}
- {id: demand, after: fourteen-day-letter expired, email: demand,
   charge: {costs: statutory, interest: statutory}}
"""
LETTER_BY_POST = """\
- {id: fourteen-day-letter, after: 10 days past due, letter: fourteen_day,
   delivery: post}
"""


@pytest.fixture
def scenario(tmp_path: Path, smtp_server: SmtpServer) -> Iterator[Scenario]:
    world = Scenario(tmp_path, smtp_server)
    yield world
    world.store.close()


def pdf_text(data: bytes) -> str:
    """The text of a PDF with every run of whitespace one space."""
    assert data.startswith(b"%PDF-")
    pages = PdfReader(BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text() for page in pages).split())


def attachments(message: Received) -> dict[str, bytes]:
    """The attachments of a message by file name, decoded."""
    return {
        str(part.get_filename()): part.get_content()
        for part in message.message.iter_attachments()
    }


def done(scenario: Scenario, step: str) -> ActionRecord:
    [action] = [a for a in scenario.actions(State.DONE) if a.step_id == step]
    return action


def notes(scenario: Scenario) -> list[str]:
    return [r["text"] for r in scenario.journal_rows() if r["kind"] == "note"]


# 1. The 14-day letter by email, and the demand after it


def test_a_fourteen_day_letter_by_email_states_the_costs_and_the_last_day(scenario):
    # Invoice 200.00 due Saturday 2025-05-10; the letter is due 10 days later,
    # Tuesday 20 May, and the SMTP server accepts it at 10:00 (08:00 UTC).
    # E-mail counts as received that day; the term runs 21 May .. 3 June
    # (14 days), Tuesday 3 June is a business day, so it is the last day and
    # costs are chargeable from Wednesday 4 June.
    # BIK costs on 200.00: 15% = 30.00, below the minimum, so 40.00.
    scenario.configure(LETTER_BY_EMAIL)
    scenario.write_items(row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"))

    scenario.run_at(local(2025, 5, 20))

    [message] = scenario.sent
    assert message.rcpt_tos == ["jan@devries.example"]
    [(name, pdf)] = attachments(message).items()
    assert name.endswith(".pdf")
    text = pdf_text(pdf)
    assert "incassokosten verschuldigd van € 40,00" in text
    assert "De laatste dag om te betalen is dan dinsdag 3 juni 2025" in text
    assert "te rekenen vanaf de dag nadat u deze brief heeft ontvangen" in text
    letter = done(scenario, "fourteen-day-letter")
    evidence = {
        k: letter.result[k]
        for k in (
            "to",
            "accepted_at",
            "received_on",
            "last_day",
            "costs_chargeable_from",
            "costs_stated",
        )
    }
    assert evidence == {
        "to": ["jan@devries.example"],
        "accepted_at": "2025-05-20T08:00:00+00:00",
        "received_on": "2025-05-20",
        "last_day": "2025-06-03",
        "costs_chargeable_from": "2025-06-04",
        "costs_stated": "40.00",
    }
    assert Path(letter.result["file"]).read_bytes() == pdf
    [note] = notes(scenario)
    assert "its 14-day term ends on 2025-06-03" in note


def test_the_demand_after_an_expired_fourteen_day_letter_charges_the_costs(scenario):
    # The letter of the test above: last day Tuesday 3 June 2025. The demand
    # step is due the day after the term, Wednesday 4 June, not on 3 June.
    # Costs 40.00 (BIK minimum on 200.00). Consumer interest (art. 6:119, 6% in
    # 2025) runs from the first day of default, 4 June, up to and including
    # yesterday: on 4 June that is no day at all, so 0.00 and no interest line.
    # Total 200.00 + 40.00 = 240.00.
    scenario.configure(LETTER_BY_EMAIL)
    scenario.write_items(row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"))
    scenario.run_at(local(2025, 5, 20))

    scenario.run_at(local(2025, 6, 3))
    assert len(scenario.sent) == 1
    scenario.run_at(local(2025, 6, 4))

    [_, demand] = scenario.sent
    assert demand.subject == "Aanmaning factuur 2026-i1"
    assert "Buitengerechtelijke incassokosten: € 40,00" in demand.text
    assert "Totaal te betalen inclusief kosten en rente: € 240,00" in demand.text
    assert "Wettelijke rente" not in demand.text
    interest = consumer_interest(
        [BalanceChange(local(2025, 5, 10).date(), Decimal("200.00"))],
        default_on=local(2025, 6, 4).date(),
        until=local(2025, 6, 3).date(),
    )
    assert interest.total == Decimal("0.00")
    action = done(scenario, "demand")
    assert action.taken_on == local(2025, 6, 4).date()
    assert (action.result["costs"], action.result["total"]) == ("40.00", "240.00")
    assert "interest" not in action.result
    assert action.result["charges_note"] == (
        "no interest yet: no whole day of default has passed"
    )


def test_a_consumer_who_pays_within_the_term_gets_no_demand_and_no_costs(scenario):
    # Letter emailed Tuesday 2025-05-20, last day 3 June. The invoice leaves the
    # open-items export on Monday 2 June: paid within the term. On 4 June, the
    # demand's day, nothing is sent and no costs are recorded anywhere.
    scenario.configure(LETTER_BY_EMAIL)
    scenario.write_items(row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"))
    scenario.run_at(local(2025, 5, 20))
    scenario.write_items()

    for day in (2, 3, 4, 5):
        scenario.run_at(local(2025, 6, day))

    assert len(scenario.sent) == 1
    assert [a.step_id for a in scenario.actions()] == ["fourteen-day-letter"]
    assert all("costs" not in a.result for a in scenario.actions())


# 2. The 14-day letter by post


def test_a_fourteen_day_letter_posted_on_a_friday_is_received_the_wednesday_after(
    scenario,
):
    # Invoice 200.00 due Tuesday 2025-04-15; the letter is due 10 days later,
    # Friday 25 April, and goes to the print folder. Post is delivered on the
    # second delivery day after posting: Saturday 26 April is King's Day 2025
    # (27 April is a Sunday), Sunday and Monday never count, so Tuesday 29 is
    # the first delivery day and Wednesday 30 April the second: received.
    # Term 1 May .. 14 May (Wednesday, a business day): last day 14 May.
    scenario.configure(LETTER_BY_POST)
    scenario.write_items(row(JAN, "i1", "2025-04-15", "200.00", issued="2025-03-15"))

    scenario.run_at(local(2025, 4, 25))

    assert scenario.sent == []
    letter = done(scenario, "fourteen-day-letter")
    printed = scenario.directory / "print" / Path(letter.result["file"]).name
    assert sorted((scenario.directory / "print").glob("*.pdf")) == [printed]
    assert printed.name.startswith("2025-04-25-fourteen_day-")
    text = pdf_text(printed.read_bytes())
    assert "Jan de Vries Dorpsstraat 2 1234 AB Utrecht" in text
    assert "woensdag 30 april 2025" in text
    assert "De laatste dag om te betalen is dan woensdag 14 mei 2025" in text
    assert "€ 40,00" in text
    assert letter.result["delivery"] == "post"
    assert letter.result["address"] == "Dorpsstraat 2 1234 AB Utrecht"
    assert (letter.result["received_on"], letter.result["last_day"]) == (
        "2025-04-30",
        "2025-05-14",
    )
    assert letter.result["costs_chargeable_from"] == "2025-05-15"
    [note] = notes(scenario)
    assert "printed for posting; its 14-day term ends on 2025-05-14" in note


# 3. No costs for a consumer without the 14-day letter


def test_a_consumer_without_an_expired_fourteen_day_letter_is_charged_no_costs(
    scenario,
):
    # Invoice 200.00 due Saturday 2025-05-10; a demand with statutory costs is
    # due 10 days later, Tuesday 20 May. No 14-day letter went out, so the
    # consumer owes no costs (art. 6:96 lid 6 BW): the total stays 200.00.
    scenario.configure(
        "- {id: demand, after: 10 days past due, email: demand,"
        " charge: {costs: statutory}}"
    )
    scenario.write_items(row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"))

    scenario.run_at(local(2025, 5, 20))

    [message] = scenario.sent
    assert "incassokosten" not in message.text
    assert "het totaalbedrag van € 200,00" in message.text
    action = done(scenario, "demand")
    assert "costs" not in action.result
    assert action.result["total"] == "200.00"
    assert action.result["charges_note"] == (
        "no collection costs: no 14-day letter whose term ran out"
    )


# 4. Contract costs for a business


def test_a_business_demand_with_fixed_contract_costs_adds_them_to_the_total(
    scenario,
):
    # Invoice 200.00 due Saturday 2025-05-10; demand 10 days later, Tuesday
    # 20 May, with the contract's fixed costs of 40.00 and no interest:
    # 200.00 + 40.00 = 240.00.
    scenario.configure(
        "- {id: demand, after: 10 days past due, email: demand,"
        " charge: {costs: contract, interest: none}}",
        extra="law: {contract_costs: {fixed: 40.00}}\n",
    )
    scenario.write_items(
        row(BAKKERIJ, "i1", "2025-05-10", "200.00", issued="2025-04-10")
    )

    scenario.run_at(local(2025, 5, 20))

    [message] = scenario.sent
    assert "Buitengerechtelijke incassokosten: € 40,00" in message.text
    assert "Totaal te betalen inclusief kosten en rente: € 240,00" in message.text
    assert "Wettelijke rente" not in message.text
    action = done(scenario, "demand")
    assert (action.result["costs"], action.result["total"]) == ("40.00", "240.00")
    assert action.result["costs_basis"] == "contract_fixed"
    assert "interest" not in action.result


# 5. Paid at the source after costs and interest were charged

PAID_AFTER_CHARGES = """\
- {id: demand, after: 34 days past due, email: demand,
   charge: {costs: contract, interest: statutory}}
- {id: last-call, after: 7 days after demand, email: second_reminder,
   charge: {costs: contract, interest: statutory}}
"""


def charge_and_pay(scenario: Scenario, after_paid: str) -> ActionRecord:
    """A 1,000.00 invoice charged 150.00 costs and 9.86 interest, then paid.

    Due Thursday 2025-06-05; the demand is due 34 days later, Wednesday 9 July.
    Commercial interest (art. 6:119a) from 6 June up to and including 8 July:
      6 .. 30 June, 25 days at 11.15%: 1000 x 11.15 x 25 / 36500 = 7.636986
      1 .. 8 July,   8 days at 10.15%: 1000 x 10.15 x  8 / 36500 = 2.224658
      together 9.861644, rounded 9.86.
    The contract's fixed costs are 150.00. On Thursday 10 July the export drops
    the invoice: the package says it was paid with 1,000.00.
    """
    scenario.configure(
        PAID_AFTER_CHARGES,
        extra=(
            f"law: {{contract_costs: {{fixed: 150.00}}, after_paid: {after_paid}}}\n"
        ),
    )
    scenario.write_items(
        row(BAKKERIJ, "i1", "2025-06-05", "1000.00", issued="2025-05-06")
    )
    scenario.run_at(local(2025, 7, 9))
    demand = done(scenario, "demand")
    assert (demand.result["costs"], demand.result["interest"]) == ("150.00", "9.86")
    assert demand.result["total"] == "1159.86"
    scenario.write_items()
    scenario.run_at(local(2025, 7, 10))
    [settlement] = [a for a in scenario.actions() if a.step_id == "after-payment"]
    return settlement


def test_costs_left_open_by_a_payment_of_the_principal_are_claimed_and_chased(
    scenario,
):
    # The 1,000.00 paid goes to the costs first, then the interest, then the
    # principal (art. 6:44 BW): 1000.00 - 150.00 - 9.86 = 840.14 of the
    # principal is paid, so 1000.00 - 840.14 = 159.86 is still open.
    settlement = charge_and_pay(scenario, "claim")

    assert settlement.state is State.DONE
    assert settlement.invoice_amounts == (("i1", Decimal("159.86")),)
    assert "159.86 of the principal is still open; the plan goes on for it" in (
        settlement.reason or ""
    )
    journal = notes(scenario)
    assert any(
        n.startswith("Invoice 2026-i1: the payment of 1000.00 went to costs 150.00")
        and "159.86 of the principal is still open" in n
        for n in journal
    )
    # The plan goes on: the next step, 7 days after the demand of Wednesday 9
    # July, is Wednesday 16 July, and asks for the 159.86 with no new charges.
    scenario.run_at(local(2025, 7, 16))
    last = done(scenario, "last-call")
    assert last.invoice_amounts == (("i1", Decimal("159.86")),)
    assert "costs" not in last.result and "interest" not in last.result
    assert "€ 159,86" in scenario.sent[-1].text


def test_a_settled_claim_is_no_longer_chased(scenario):
    charge_and_pay(scenario, "claim")
    store = scenario.store
    [invoice] = [i for i in store.mirror.snapshot("acme").invoices if i.key == "i1"]
    assert (invoice.open_amount, invoice.residual_claim) == (Decimal("159.86"), True)

    store.mirror.set_residual("acme", "i1", None)

    assert all(i.key != "i1" for i in store.mirror.snapshot("acme").invoices)


def test_costs_left_open_by_a_payment_are_waived_when_the_policy_says_so(scenario):
    # The same amounts as above; with after_paid: waive the 159.86 is written
    # off, and the ledger says so with every amount.
    settlement = charge_and_pay(scenario, "waive")

    assert settlement.state is State.SKIPPED
    assert "159.86 of the principal is still open; waived by policy" in (
        settlement.reason or ""
    )
    amounts = {k: settlement.payload[k] for k in ("costs", "interest", "paid")}
    assert amounts == {"costs": "150.00", "interest": "9.86", "paid": "1000.00"}
    assert settlement.payload["waived"] is True
    assert settlement.invoice_amounts == (("i1", Decimal("159.86")),)


# 6. Handover to a collection agency

HANDOVER = """\
- {id: reminder, after: 3 days past due, email: reminder}
- {id: fourteen-day-letter, after: 10 days past due, letter: fourteen_day}
- {id: handover, after: fourteen-day-letter expired, handover: agency,
   charge: {costs: statutory}}
- {id: after-handover, after: 3 days after handover, email: second_reminder}
"""


def handed_over(scenario: Scenario) -> dict:
    """Two invoices of one consumer, chased up to the handover.

    i1 200.00 and i2 75.50, both due Saturday 2025-05-10:
      reminder            10 May + 3  = Tuesday 13 May (email, both invoices)
      14-day letter       10 May + 10 = Tuesday 20 May (email, both invoices)
      handover            the day after the last day, 3 June: Wednesday 4 June
    BIK costs on 275.50: 15% = 41.325, rounded 41.33.
    """
    scenario.configure(HANDOVER, extra="agencies: {agency: {folder: agency}}\n")
    scenario.write_items(
        row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"),
        row(JAN, "i2", "2025-05-10", "75.50", issued="2025-04-10"),
    )
    for day in (local(2025, 5, 13), local(2025, 5, 20), local(2025, 6, 4)):
        scenario.run_at(day)
    [dossier] = (scenario.directory / "agency").glob("dossier-*.json")
    return json.loads(dossier.read_text(encoding="utf-8"))


def test_a_handover_writes_a_dossier_with_the_claim_and_the_history(scenario):
    # The dossier names each invoice with its own open amount, the claim with
    # the costs of 41.33, every earlier action with its time (10:00 in
    # Amsterdam is 08:00 UTC in May) and the proof of the 14-day letter.
    dossier = handed_over(scenario)

    folder = scenario.directory / "agency"
    handover = done(scenario, "handover")
    reference = handover.key[:12]
    assert sorted(p.name for p in folder.iterdir()) == [
        f"dossier-{reference}.json",
        f"dossier-{reference}.pdf",
    ]
    assert (folder / f"dossier-{reference}.pdf").read_bytes().startswith(b"%PDF-")
    assert dossier["reference"] == reference
    assert [(i["number"], i["open_amount"]) for i in dossier["invoices"]] == [
        ("2026-i1", "200.00"),
        ("2026-i2", "75.50"),
    ]
    claim = {k: dossier["claim"][k] for k in ("principal", "costs", "total")}
    assert claim == {"principal": "275.50", "costs": "41.33", "total": "316.83"}
    assert [(a["step"], a["taken_at"], a["invoices"]) for a in dossier["actions"]] == [
        ("reminder", "2025-05-13T08:00:00+00:00", ["2026-i1", "2026-i2"]),
        ("fourteen-day-letter", "2025-05-20T08:00:00+00:00", ["2026-i1", "2026-i2"]),
    ]
    proof = dossier["fourteen_day_letter"]
    assert proof["accepted_at"] == "2025-05-20T08:00:00+00:00"
    assert (proof["address"], proof["delivery"]) == ("jan@devries.example", "email")
    assert (proof["received_on"], proof["last_day"]) == ("2025-05-20", "2025-06-03")
    assert proof["costs_if_unpaid"] == "41.33"
    assert handover.result["dossier"] == str(folder / f"dossier-{reference}.json")


def test_a_handed_over_invoice_gets_no_further_action(scenario):
    # After the handover on Wednesday 4 June the next step would be due 3 days
    # later: Saturday 7 June, Whit Monday 9 June is a holiday, so Tuesday
    # 10 June. The handover hold keeps it from being taken then or later.
    handed_over(scenario)
    sent = len(scenario.sent)

    results = [scenario.run_at(local(2025, 6, day)) for day in (10, 11, 16)]

    assert len(scenario.sent) == sent
    assert all(a.step_id != "after-handover" for a in scenario.actions())
    plan = results[-1].plan
    assert plan is not None
    assert {(s.invoice_key, s.reason) for s in plan.skips} == {
        ("i1", "on hold: handover (handed over to agency)"),
        ("i2", "on hold: handover (handed over to agency)"),
    }
    assert any(
        n.startswith("Handed over to collection agency 'agency'")
        for n in notes(scenario)
    )


class AgencyEndpoint(BaseHTTPRequestHandler):
    """An agency's webhook on loopback: records each request and answers 201."""

    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        self.send_response(201)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test reads what was received instead."""


@pytest.fixture
def agency_webhook() -> Iterator[tuple[str, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []
    handler = type("Endpoint", (AgencyEndpoint,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/dossiers", received
    server.shutdown()
    server.server_close()


def test_a_dossier_posted_to_an_agency_webhook_is_signed_with_its_secret(
    scenario, agency_webhook
):
    # The handover of the tests above, to an agency that takes dossiers on a
    # webhook. The body is signed with HMAC-SHA256 under the secret the policy
    # names, so the agency can tell the dossier came from us.
    url, received = agency_webhook
    scenario.secrets["AGENCY_KEY"] = "agency-signing-key"
    scenario.configure(
        HANDOVER,
        extra=(
            f"agencies: {{agency: {{webhook: '{url}',"
            " webhook_secret: {secret: AGENCY_KEY}}}\n"
        ),
    )
    scenario.write_items(
        row(JAN, "i1", "2025-05-10", "200.00", issued="2025-04-10"),
        row(JAN, "i2", "2025-05-10", "75.50", issued="2025-04-10"),
    )
    for day in (local(2025, 5, 13), local(2025, 5, 20), local(2025, 6, 4)):
        scenario.run_at(day)

    [(headers, body)] = received
    expected = hmac.new(b"agency-signing-key", body, hashlib.sha256).hexdigest()
    assert headers["X-Dunning-Signature"] == f"sha256={expected}"
    handover = done(scenario, "handover")
    assert headers["Idempotency-Key"] == handover.key[:12]
    assert json.loads(body)["claim"]["total"] == "316.83"
    assert handover.result["status"] == "201"


def test_dunning_settle_ends_a_claim_and_it_stays_ended(scenario, monkeypatch):
    from click.testing import CliRunner

    from connector.cli import main

    charge_and_pay(scenario, "claim")
    monkeypatch.setenv("DUNNING_STATE_URL", scenario.state_url)

    result = CliRunner().invoke(main, ["settle", "2026-i1", "--reason", "paid cash"])

    assert result.exit_code == 0, result.output
    assert "claim of 159.86 on 2026-i1 settled" in result.output
    # Later cycles neither chase it nor open the claim again.
    scenario.run_at(local(2025, 7, 16))
    assert [a for a in scenario.actions() if a.step_id == "last-call"] == []
    assert all(i.key != "i1" for i in scenario.store.mirror.snapshot("acme").invoices)
