"""The page every document prints on: A4, core fonts, a footer with page numbers.

fpdf2's core fonts need no font file, which keeps the package pure Python and
the PDFs small. They are written in cp1252 so that the euro sign prints; every
piece of text passes `pdf_safe` on its way in, so an unexpected character is
replaced, never raised (see `connector.letters.formats`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time

from fpdf import FPDF, FontFace
from fpdf.enums import Align

from connector.letters.formats import PDF_ENCODING, pdf_line, pdf_safe

FONT = "Helvetica"
BODY_SIZE = 10
SMALL_SIZE = 8
LINE = 4.6
MARGIN = 20.0
FOOTER_SPACE = 22.0
MUTED = (90, 90, 90)
RULE = (160, 160, 160)
HEADING_FILL = (235, 235, 235)


class DocumentPDF(FPDF):
    """An A4 page with a footer of fixed lines and "page x of y"."""

    def __init__(
        self,
        *,
        footer_lines: Sequence[str],
        page_label: str,
        dated: date,
        title: str,
        author: str,
        language: str,
    ):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.core_fonts_encoding = PDF_ENCODING
        self._footer_lines = [pdf_line(line) for line in footer_lines if line]
        self._page_label = page_label
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(auto=True, margin=FOOTER_SPACE)
        # A fixed creation date makes the same content give the same bytes.
        self.set_creation_date(datetime.combine(dated, time(), tzinfo=UTC))
        self.set_title(pdf_line(title))
        self.set_author(pdf_line(author))
        self.set_creator("dunning-connector")
        self.set_lang(language)
        self.set_font(FONT, size=BODY_SIZE)

    def normalize_text(self, text: str) -> str:
        """Make `text` printable in the core fonts before fpdf2 encodes it."""
        return super().normalize_text(pdf_safe(text))

    def footer(self) -> None:
        """The creditor's registration details and the page number."""
        self.set_y(-16)
        self.set_font(FONT, size=SMALL_SIZE)
        self.set_text_color(*MUTED)
        self.set_draw_color(*RULE)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(1.5)
        label = self._page_label.format(page=self.page_no(), pages="{nb}")
        room = self.epw - self.get_string_width(label) - 4
        details = self.fit(" | ".join(self._footer_lines), room)
        self.cell(0, 4, details, align=Align.L)
        self.set_x(self.l_margin)
        self.cell(0, 4, label, align=Align.R)
        self.set_text_color(0, 0, 0)

    def paragraph(self, text: str, *, style: str = "", size: int = BODY_SIZE) -> None:
        """A paragraph across the text width, followed by a half-line gap."""
        self.set_font(FONT, style=style, size=size)
        self.set_x(self.l_margin)
        self.multi_cell(0, LINE, pdf_safe(text), align=Align.L)
        self.ln(LINE / 2)

    def lines(self, lines: Sequence[str], *, x: float, width: float) -> None:
        """Lines at `x`, each cut to one printed line of `width`."""
        for line in lines:
            self.set_x(x)
            self.cell(width, LINE - 0.5, self.fit(pdf_line(line), width))
            self.ln(LINE - 0.5)

    def fit(self, text: str, width: float) -> str:
        """`text`, shortened with an ellipsis until it fits in `width`."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def heading(self, text: str) -> None:
        """A bold heading for a section of a document."""
        self.ln(2)
        self.paragraph(text, style="B", size=BODY_SIZE + 1)

    def grid(
        self,
        rows: Sequence[Sequence[str]],
        *,
        widths: Sequence[float],
        align: Sequence[str],
        headings: bool = True,
    ) -> None:
        """A table; with `headings` its first row heads it on every page."""
        self.set_font(FONT, size=BODY_SIZE - 1)
        with self.table(
            col_widths=tuple(widths),
            text_align=tuple(align),
            headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
            borders_layout="HORIZONTAL_LINES",
            line_height=LINE - 0.5,
            padding=(1, 1.5),
            width=self.epw,
            first_row_as_headings=headings,
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(pdf_safe(value))
        self.set_font(FONT, size=BODY_SIZE)
