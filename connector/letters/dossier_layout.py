"""Print a handover dossier from its JSON-ready dict.

The summary reads from the dict, not from the records it was built from, so a
dossier loaded back from its JSON prints the same pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from connector.letters.formats import format_date, format_money
from connector.letters.pdf import BODY_SIZE, FONT, DocumentPDF
from connector.letters.texts import text

ACTION_WIDTHS = (38, 30, 16, 14, 42)
LETTER_WIDTHS = (22, 30, 20, 48)
INVOICE_WIDTHS = (30, 22, 22, 22, 22)
FACT_WIDTHS = (45, 75)


def draw_dossier(data: Mapping[str, Any]) -> bytes:
    """The dossier summary as the bytes of a PDF file."""
    page = _DossierPage(data)
    page.draw()
    return bytes(page.pdf.output())


class _DossierPage:
    """One dossier being printed."""

    def __init__(self, data: Mapping[str, Any]):
        self.data = data
        self.lang = str(data.get("language") or "nl")
        creditor = data["creditor"]
        self.pdf = DocumentPDF(
            footer_lines=[creditor["name"], str(data["reference"])],
            page_label=self.t("footer.page", page="{page}", pages="{pages}"),
            dated=date.fromisoformat(data["prepared_on"]),
            title=self.t("dossier.title", reference=str(data["reference"])),
            author=creditor["name"],
            language=self.lang,
        )

    def t(self, key: str, **values: str) -> str:
        return text(self.lang, key, **values)

    def money(self, amount: str | None) -> str:
        if amount is None:
            return ""
        return format_money(Decimal(amount), self.data["currency"], self.lang)

    def day(self, value: str | None, style: str = "medium") -> str:
        if not value:
            return ""
        return format_date(date.fromisoformat(value), self.lang, style)

    def moment(self, value: str | None) -> str:
        """An ISO time as its date in words, the clock time and the UTC offset."""
        if not value:
            return ""
        when = datetime.fromisoformat(value)
        day = format_date(when.date(), self.lang, "medium")
        return f"{day} {when:%H:%M:%S} {when:%z}".strip()

    def draw(self) -> None:
        pdf = self.pdf
        pdf.add_page()
        prepared = self.day(self.data["prepared_on"], "long")
        reference = str(self.data["reference"])
        pdf.paragraph(self.t("dossier.title", reference=reference), style="B", size=14)
        creditor = self.data["creditor"]["name"]
        pdf.paragraph(self.t("dossier.prepared", day=prepared, creditor=creditor))
        self._parties()
        self._claim()
        self._invoices()
        self._fourteen_day()
        self._letters()
        self._actions()

    def _parties(self) -> None:
        creditor = self.data["creditor"]
        debtor = self.data["debtor"]
        kind = debtor.get("kind") or ""
        kind_key = f"dossier.kind.{kind}"
        kind_text = self.t(kind_key) if kind in ("person", "business") else kind
        place = f"{debtor['postcode']}  {debtor['city']}".strip()
        debtor_lines = [
            debtor["name"],
            debtor["contact_person"],
            *debtor["address_lines"],
            place,
            debtor["country"],
            debtor["customer_number"],
            debtor["email"],
            debtor["phone"],
            kind_text,
        ]
        creditor_lines = [
            creditor["name"],
            *creditor["address_lines"],
            creditor["email"],
            creditor["phone"],
            creditor["iban"],
            creditor["coc_number"],
        ]
        rows = [[self.t("dossier.debtor"), self.t("dossier.creditor")]]
        rows.append(
            [
                "\n".join(line for line in debtor_lines if line),
                "\n".join(line for line in creditor_lines if line),
            ]
        )
        self.pdf.heading(self.t("dossier.debtor") + " / " + self.t("dossier.creditor"))
        self.pdf.grid(rows, widths=(1, 1), align=("LEFT", "LEFT"))

    def _claim(self) -> None:
        claim = self.data["claim"]
        rows = [
            [self.t("dossier.claim"), self.t("dossier.amount")],
            [self.t("sum.subtotal"), self.money(claim["principal"])],
            [self.t("sum.costs"), self.money(claim["costs"])],
            [self.t("sum.interest"), self.money(claim["interest"])],
            [self.t("dossier.total"), self.money(claim["total"])],
        ]
        self.pdf.heading(self.t("dossier.claim"))
        self.pdf.grid(rows, widths=FACT_WIDTHS, align=("LEFT", "RIGHT"))

    def _invoices(self) -> None:
        rows = [
            [
                self.t("table.invoice"),
                self.t("table.issue_date"),
                self.t("table.due_date"),
                self.t("dossier.total"),
                self.t("table.open"),
            ]
        ]
        for invoice in self.data["invoices"]:
            rows.append(
                [
                    invoice["number"],
                    self.day(invoice["issue_date"]),
                    self.day(invoice["due_date"]),
                    self.money(invoice["total"]),
                    self.money(invoice["open_amount"]),
                ]
            )
        for note in self.data["credit_notes"]:
            label = self.t("table.credit_note", number=note["number"])
            amount = self.money(note["amount"])
            rows.append([label, self.day(note["issue_date"]), "", amount, amount])
        self.pdf.heading(self.t("dossier.invoices"))
        align = ("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT")
        self.pdf.grid(rows, widths=INVOICE_WIDTHS, align=align)

    def _fourteen_day(self) -> None:
        proof = self.data.get("fourteen_day_letter")
        self.pdf.heading(self.t("dossier.fourteen_day"))
        if not proof:
            self.pdf.paragraph(self.t("dossier.none"))
            return
        delivery = self.t(f"dossier.delivery.{proof['delivery']}")
        facts = [
            ("dossier.sent_at", self.moment(proof["sent_at"])),
            ("dossier.accepted_at", self.moment(proof["accepted_at"])),
            ("dossier.address", proof["address"]),
            ("dossier.delivery", delivery),
            ("dossier.received_on", self.day(proof["received_on"], "long")),
            ("dossier.last_day", self.day(proof["last_day"], "full")),
            ("dossier.costs_from", self.day(proof["costs_chargeable_from"], "long")),
            ("sum.costs", self.money(proof["costs_if_unpaid"])),
            ("dossier.message_id", proof["message_id"]),
            ("dossier.file", proof["file_name"]),
        ]
        rows = [[self.t(key), value] for key, value in facts if value]
        align = ("LEFT", "LEFT")
        self.pdf.grid(rows, widths=FACT_WIDTHS, align=align, headings=False)

    def _letters(self) -> None:
        rows = [
            [
                self.t("label.date"),
                self.t("dossier.letter"),
                self.t("dossier.delivery"),
                self.t("dossier.file"),
            ]
        ]
        for letter in self.data["letters"]:
            delivery = letter["delivery"]
            rows.append(
                [
                    self.day(letter["sent_on"]),
                    self.t(f"kind.{letter['kind']}"),
                    self.t(f"dossier.delivery.{delivery}") if delivery else "",
                    letter["file_name"],
                ]
            )
        self.pdf.heading(self.t("dossier.letters"))
        self._grid_or_none(rows, LETTER_WIDTHS)

    def _actions(self) -> None:
        rows = [
            [
                self.t("dossier.when"),
                self.t("dossier.step"),
                self.t("dossier.channel"),
                self.t("dossier.state"),
                self.t("dossier.recipient"),
            ]
        ]
        for action in self.data["actions"]:
            rows.append(
                [
                    self.moment(action["taken_at"]),
                    action["step"],
                    action["channel"],
                    action["state"],
                    action["recipient"],
                ]
            )
        self.pdf.heading(self.t("dossier.actions"))
        self._grid_or_none(rows, ACTION_WIDTHS)

    def _grid_or_none(self, rows: list[list[str]], widths: tuple[int, ...]) -> None:
        if len(rows) == 1:
            self.pdf.paragraph(self.t("dossier.none"))
            return
        self.pdf.grid(rows, widths=widths, align=("LEFT",) * len(widths))
        self.pdf.set_font(FONT, size=BODY_SIZE)
