"""Print a reminder, a demand or a 14-day letter as a PDF.

The first page has the creditor at the top right, the debtor where a window
envelope (left window, DIN 5008 / NEN 1026 position) shows the address, then
the date, the references and the subject. The body names the invoices and
credit notes each with its own open amount, the costs and interest charged, the
total, how to pay and whom to ask.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.numbers import format_decimal
from fpdf.enums import Align

from connector.letters.content import LetterContent, LetterCosts, LetterKind
from connector.letters.formats import (
    format_date,
    format_money,
    http_url,
    pdf_inline,
    pdf_line,
)
from connector.letters.pdf import (
    BODY_SIZE,
    FONT,
    LINE,
    MARGIN,
    DocumentPDF,
)
from connector.letters.texts import text

WINDOW_X = 22.0
WINDOW_Y = 50.0
WINDOW_WIDTH = 85.0
CREDITOR_X = 125.0
META_Y = 95.0
INVOICE_WIDTHS = (34, 22, 22, 22)
INVOICE_ALIGN = ("LEFT", "LEFT", "LEFT", "RIGHT")


def render_letter(content: LetterContent) -> bytes:
    """The letter as the bytes of a PDF file."""
    letter = _Letter(content)
    letter.draw()
    return bytes(letter.pdf.output())


def letter_subject(content: LetterContent) -> str:
    """The subject line of the letter, in its language."""
    return text(content.language, f"subject.{content.kind.value}")


class _Letter:
    """One letter being drawn: the content, its language and the page."""

    def __init__(self, content: LetterContent):
        self.content = content
        self.lang = content.language
        self.pdf = DocumentPDF(
            footer_lines=self._footer_lines(),
            page_label=text(self.lang, "footer.page", page="{page}", pages="{pages}"),
            dated=content.letter_date,
            title=f"{letter_subject(content)} {content.reference}",
            author=content.creditor.name,
            language=self.lang,
        )

    def t(self, key: str, **values: str) -> str:
        # A value is one line: a line break in a name cannot start a new line.
        return text(self.lang, key, **{k: pdf_inline(v) for k, v in values.items()})

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.content.currency, self.lang)

    def day(self, value: date, style: str = "long") -> str:
        return format_date(value, self.lang, style)

    def draw(self) -> None:
        self.pdf.add_page()
        self._creditor_block()
        self._address_window()
        self._meta_block()
        self._salutation()
        self.pdf.paragraph(self._opening())
        self._invoice_table()
        self._summary()
        for paragraph in self._request():
            self.pdf.paragraph(paragraph)
        self._payment()
        self._closing()

    def _creditor_block(self) -> None:
        creditor = self.content.creditor
        pdf = self.pdf
        width = pdf.w - MARGIN - CREDITOR_X
        pdf.set_xy(CREDITOR_X, MARGIN)
        pdf.set_font(FONT, style="B", size=BODY_SIZE + 2)
        pdf.lines([creditor.name], x=CREDITOR_X, width=width)
        pdf.set_font(FONT, size=BODY_SIZE - 1)
        details = [*creditor.address_lines, creditor.email, creditor.phone]
        if creditor.coc_number:
            details.append(self.t("footer.coc", number=creditor.coc_number))
        pdf.lines([d for d in details if d], x=CREDITOR_X, width=width)

    def _address_window(self) -> None:
        debtor = self.content.debtor
        lines = [debtor.name]
        if debtor.contact_person:
            lines.append(self.t("attention", name=debtor.contact_person))
        lines += debtor.address_lines
        lines.append(f"{debtor.postcode}  {debtor.city}".strip())
        if debtor.country and debtor.country != self.content.creditor.country:
            lines.append(self._country_name(debtor.country).upper())
        self.pdf.set_xy(WINDOW_X, WINDOW_Y)
        self.pdf.set_font(FONT, size=BODY_SIZE)
        self.pdf.lines([line for line in lines if line], x=WINDOW_X, width=WINDOW_WIDTH)

    def _country_name(self, code: str) -> str:
        territories = Locale.parse(self.lang).territories
        return str(territories.get(code.upper(), code))

    def _meta_block(self) -> None:
        content = self.content
        rows = [
            (self.t("label.date"), self.day(content.letter_date)),
            (self.t("label.reference"), content.reference),
        ]
        if content.debtor.customer_number:
            rows.append((self.t("label.customer"), content.debtor.customer_number))
        pdf = self.pdf
        pdf.set_y(max(pdf.get_y() + LINE, META_Y))
        pdf.set_font(FONT, size=BODY_SIZE)
        for label, value in rows:
            pdf.lines([f"{label}: {value}"], x=MARGIN, width=pdf.epw)
        pdf.ln(LINE)
        pdf.paragraph(letter_subject(content), style="B", size=BODY_SIZE + 1)

    def _salutation(self) -> None:
        name = self.content.debtor.contact_person
        if name:
            self.pdf.paragraph(self.t("salutation.named", name=name))
        else:
            self.pdf.paragraph(self.t("salutation.anonymous"))

    def _opening(self) -> str:
        kind = self.content.kind
        opening = self.t(
            f"{kind.value}.opening", principal=self.money(self.content.subtotal)
        )
        if kind is LetterKind.FOURTEEN_DAY and self.content.interest is not None:
            opening += " " + self._interest_sentence()
        return opening

    def _invoice_table(self) -> None:
        rows = [
            [
                self.t("table.invoice"),
                self.t("table.issue_date"),
                self.t("table.due_date"),
                self.t("table.open"),
            ]
        ]
        for invoice in self.content.invoices:
            rows.append(
                [
                    invoice.number,
                    self.day(invoice.issue_date, "medium"),
                    self.day(invoice.due_date, "medium"),
                    self.money(invoice.open_amount),
                ]
            )
        for note in self.content.credit_notes:
            issued = (
                "" if note.issue_date is None else self.day(note.issue_date, "medium")
            )
            label = self.t("table.credit_note", number=note.number)
            rows.append([label, issued, "", self.money(note.amount)])
        self.pdf.grid(rows, widths=INVOICE_WIDTHS, align=INVOICE_ALIGN)
        self.pdf.ln(1)

    def _summary(self) -> None:
        content = self.content
        rows = [(self.t("sum.subtotal"), content.subtotal, "")]
        if content.costs is not None:
            rows.append((self.t("sum.costs"), content.costs.total, ""))
            if content.costs.vat:
                rows.append((self.t("sum.costs_vat"), content.costs.vat, "I"))
        if content.interest is not None:
            rows.append((self.t("sum.interest"), content.interest.amount, ""))
        rows.append((self.t("sum.total"), content.amount_due, "B"))
        for label, amount, style in rows:
            self._summary_row(label, amount, style)
        self.pdf.ln(LINE)

    def _summary_row(self, label: str, amount: Decimal, style: str) -> None:
        pdf = self.pdf
        amount_width = 35.0
        label_width = pdf.epw - amount_width
        if style == "B":
            y = pdf.get_y() + 0.5
            pdf.line(pdf.l_margin + label_width / 2, y, pdf.w - pdf.r_margin, y)
            pdf.ln(1)
        pdf.set_font(FONT, style=style, size=BODY_SIZE)
        pdf.set_x(pdf.l_margin)
        pdf.cell(label_width, LINE, label, align=Align.R)
        pdf.cell(amount_width, LINE, self.money(amount), align=Align.R)
        pdf.ln(LINE)
        pdf.set_font(FONT, size=BODY_SIZE)

    def _request(self) -> list[str]:
        kind = self.content.kind
        if kind is LetterKind.REMINDER:
            return self._reminder_request()
        if kind is LetterKind.DEMAND:
            return self._demand_request()
        return self._fourteen_day_request()

    def _reminder_request(self) -> list[str]:
        total = self.money(self.content.amount_due)
        pay_by = self.content.pay_by
        if pay_by is None:
            request = self.t("reminder.request", total=total)
        else:
            request = self.t(
                "reminder.request_by", total=total, pay_by=self.day(pay_by)
            )
        return [request, self.t("reminder.already_paid")]

    def _demand_request(self) -> list[str]:
        content = self.content
        total = self.money(content.amount_due)
        if content.pay_by is None:
            notice = self.t("demand.notice", total=total)
        else:
            pay_by = self.day(content.pay_by)
            notice = self.t("demand.notice_by", total=total, pay_by=pay_by)
        charged = []
        if content.costs is not None:
            charged.append(self._costs_sentence("demand.costs", content.costs))
        if content.interest is not None:
            charged.append(self._interest_sentence())
        paragraphs = [notice]
        if charged:
            paragraphs.append(" ".join(charged))
        return [*paragraphs, self.t("demand.consequence")]

    def _fourteen_day_request(self) -> list[str]:
        notice = self.content.fourteen_day
        assert notice is not None
        last_day = self.day(notice.last_day, "full")
        term = self.t("fourteen_day.term", total=self.money(self.content.amount_due))
        if notice.received_on is None:
            when = self.t("fourteen_day.last_day", last_day=last_day)
        else:
            received = self.day(notice.received_on, "full")
            when = self.t(
                "fourteen_day.received", received_on=received, last_day=last_day
            )
        costs = self._costs_sentence("fourteen_day.costs", notice.costs_if_unpaid)
        return [f"{term} {when}", self.t("fourteen_day.in_time"), costs]

    def _costs_sentence(self, key: str, costs: LetterCosts) -> str:
        vat_note = ""
        if costs.vat:
            vat_note = self.t("vat_note", vat=self.money(costs.vat))
        basis = costs.basis_text.strip().lstrip(",").strip()
        return self.t(
            key,
            costs=self.money(costs.total),
            vat_note=vat_note,
            basis=f", {basis}" if basis else "",
        )

    def _interest_sentence(self) -> str:
        interest = self.content.interest
        assert interest is not None
        terms = self.t(
            "interest.period",
            kind=self.t(f"interest.{interest.kind.value}"),
            start=self.day(interest.from_day),
            end=self.day(interest.until_day),
        )
        if interest.rate is not None:
            terms += self.t("interest.rate", rate=_percent(interest.rate, self.lang))
        key = f"{self.content.kind.value}.interest"
        if self.content.kind is LetterKind.REMINDER:
            key = "demand.interest"
        return self.t(key, interest_terms=terms, interest=self.money(interest.amount))

    def _payment(self) -> None:
        content = self.content
        creditor = content.creditor
        total = self.money(content.amount_due)
        if creditor.iban:
            bic = self.t("pay.bic", bic=creditor.bic) if creditor.bic else ""
            reference = content.payment_reference or ", ".join(
                i.number for i in content.invoices
            )
            self.pdf.paragraph(
                self.t(
                    "pay.transfer",
                    total=total,
                    iban=creditor.iban,
                    bic=bic,
                    creditor=creditor.name,
                    reference=reference,
                )
            )
        url = http_url(content.pay_url)
        if url:
            self.pdf.paragraph(self.t("pay.link"))
            self.pdf.set_text_color(20, 60, 160)
            self.pdf.write(LINE, url, link=url)
            self.pdf.set_text_color(0, 0, 0)
            self.pdf.ln(LINE * 1.5)
        if not creditor.iban and not url:
            self.pdf.paragraph(self.t("pay.contact"))
        contact = self.t("or").join(c for c in (creditor.email, creditor.phone) if c)
        if contact:
            self.pdf.paragraph(self.t("contact", contact=contact))

    def _closing(self) -> None:
        kind = self.content.kind
        key = "closing.reminder" if kind is LetterKind.REMINDER else "closing.formal"
        self.pdf.ln(LINE / 2)
        self.pdf.paragraph(self.t(key))
        self.pdf.paragraph(pdf_line(self.content.creditor.name))

    def _footer_lines(self) -> list[str]:
        creditor = self.content.creditor
        lines = [creditor.name]
        if creditor.coc_number:
            lines.append(text(self.lang, "footer.coc", number=creditor.coc_number))
        if creditor.vat_number:
            lines.append(text(self.lang, "footer.vat", number=creditor.vat_number))
        if creditor.iban:
            lines.append(f"IBAN {creditor.iban}")
        return lines


def _percent(rate: Decimal, language: str) -> str:
    return str(format_decimal(rate, format="#,##0.00##", locale=language))
