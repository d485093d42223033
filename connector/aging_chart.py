"""The aging report as a PNG: stacked bars of the buckets, drawn with Pillow.

For each currency the chart has two panels, each with its own scale: the total
of all debtors, and the ten debtors who owe the most. A bar stacks the buckets
from not due (left) to over 90 days (right); the label after it gives what the
debtor owes net of open credit notes, and the credit when there is any.
Pixel positions are floats; every amount shown is formatted from its Decimal.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from connector.aging import (
    BUCKET_LABELS,
    DSO_WINDOW_DAYS,
    AgingReport,
    AgingRow,
    format_amount,
)

WIDTH = 1000
MARGIN = 24
LABEL_W = 210  # debtor names, left of the bars
VALUE_W = 230  # net amount and credit, right of the bars
TITLE_H = 44
LEGEND_H = 36
HEADING_H = 30
BAR_PITCH = 30
BAR_H = 20
AXIS_H = 26
PANEL_GAP = 14
EMPTY_H = 40
TOP_DEBTORS = 10

# Cool for not yet due, warmer as debts age; readable for most colour blindness.
COLOURS = ("#2c7bb6", "#abd9e9", "#fdd262", "#f08a3c", "#c8102e")
DARK_BUCKETS = frozenset({0, 4})  # white text reads better on these
INK = "#222222"
GRID = "#d9d9d9"
MUTED = "#666666"
BACKGROUND = "#ffffff"

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


def chart_size(report: AgingReport, top: int = TOP_DEBTORS) -> tuple[int, int]:
    """Width and height in pixels of the chart of ``report``."""
    height = MARGIN + TITLE_H + LEGEND_H
    if not report.totals:
        return WIDTH, height + EMPTY_H + MARGIN
    for currency in report.currencies:
        debtors = len(_top_rows(report, currency, top))
        height += _panel_height(1) + PANEL_GAP
        height += _panel_height(debtors) + PANEL_GAP
    return WIDTH, height - PANEL_GAP + MARGIN


def write_chart(report: AgingReport, path: Path, top: int = TOP_DEBTORS) -> None:
    """Draw the chart of ``report`` and save it as a PNG file at ``path``."""
    render_chart(report, top).save(path, format="PNG", optimize=True)


def render_chart(report: AgingReport, top: int = TOP_DEBTORS) -> Image.Image:
    """The chart of ``report`` as an image."""
    image = Image.new("RGB", chart_size(report, top), BACKGROUND)
    draw = ImageDraw.Draw(image)
    y = _draw_title(draw, report)
    y = _draw_legend(draw, y)
    if not report.totals:
        draw.text((MARGIN, y + 8), "No open receivables.", fill=MUTED, font=_font(16))
        return image
    for currency in report.currencies:
        total = report.total_in(currency)
        heading = f"{currency}: all debtors{_dso_note(report, currency)}"
        y = _draw_panel(draw, y, heading, [total])
        y += PANEL_GAP
        rows = _top_rows(report, currency, top)
        heading = f"{currency}: the {top} debtors who owe the most"
        if len(rows) < top:
            heading = f"{currency}: every debtor who owes"
        y = _draw_panel(draw, y, heading, rows)
        y += PANEL_GAP
    return image


def _top_rows(report: AgingReport, currency: str, top: int) -> list[AgingRow]:
    rows = [r for r in report.rows_in(currency) if r.receivable > 0]
    rows.sort(key=lambda r: (-r.receivable, r.debtor_name.casefold()))
    return rows[:top]


def _dso_note(report: AgingReport, currency: str) -> str:
    if currency not in report.dso:
        return ""
    days = report.dso[currency]
    if days is None:
        return f", DSO more than {DSO_WINDOW_DAYS} days"
    return f", DSO {days} days (countback)"


def _panel_height(bars: int) -> int:
    return HEADING_H + max(bars, 1) * BAR_PITCH + AXIS_H


def _font(size: int) -> Font:
    return ImageFont.load_default(size=size)


def _draw_title(draw: ImageDraw.ImageDraw, report: AgingReport) -> int:
    title = "Aging of open receivables"
    if report.source:
        title += f", {report.source}"
    title += f", as of {report.today.isoformat()}"
    draw.text((MARGIN, MARGIN), title, fill=INK, font=_font(20))
    return MARGIN + TITLE_H


def _draw_legend(draw: ImageDraw.ImageDraw, y: int) -> int:
    font = _font(14)
    x = float(MARGIN)
    draw.text((x, y + 4), "Days past due:", fill=INK, font=font)
    x += draw.textlength("Days past due:", font=font) + 14
    for colour, label in zip(COLOURS, BUCKET_LABELS, strict=True):
        draw.rectangle((x, y + 4, x + 16, y + 20), fill=colour, outline=INK)
        draw.text((x + 22, y + 4), label, fill=INK, font=font)
        x += 22 + draw.textlength(label, font=font) + 22
    return y + LEGEND_H


def _draw_panel(
    draw: ImageDraw.ImageDraw, y: int, heading: str, rows: list[AgingRow]
) -> int:
    """Draw a heading, one bar per row and an axis; return the y below them."""
    draw.text((MARGIN, y + 6), heading, fill=INK, font=_font(16))
    y += HEADING_H
    left, right = MARGIN + LABEL_W, WIDTH - MARGIN - VALUE_W
    top_of_bars = y
    peak = max((r.receivable for r in rows), default=Decimal(0))
    step, ticks = _ticks(peak)
    scale = (right - left) / float(step * ticks) if peak > 0 else 0.0
    bottom = y + max(len(rows), 1) * BAR_PITCH

    font = _font(12)
    for tick in range(ticks + 1):
        x = left + tick * float(step) * scale if scale else left
        draw.line((x, top_of_bars, x, bottom), fill=GRID)
        label = f"{step * tick:,}"
        width = draw.textlength(label, font=font)
        draw.text((x - width / 2, bottom + 6), label, fill=MUTED, font=font)
    draw.line((left, top_of_bars, left, bottom), fill=INK)

    for row in rows:
        _draw_bar(draw, row, y, left, scale)
        y += BAR_PITCH
    return bottom + AXIS_H


def _draw_bar(
    draw: ImageDraw.ImageDraw, row: AgingRow, y: int, left: int, scale: float
) -> None:
    font = _font(13)
    top = y + (BAR_PITCH - BAR_H) / 2
    name = _fit("Total" if row.is_total else row.debtor_name, LABEL_W - 12, font)
    draw.text((MARGIN, top + 2), name, fill=INK, font=font)

    x = float(left)
    small = _font(11)
    for index, amount in enumerate(row.buckets):
        if amount <= 0:
            continue
        width = float(amount) * scale
        draw.rectangle((x, top, x + width, top + BAR_H), fill=COLOURS[index])
        label = format_amount(amount)
        if draw.textlength(label, font=small) + 8 <= width:
            ink = "#ffffff" if index in DARK_BUCKETS else INK
            draw.text((x + 4, top + 4), label, fill=ink, font=small)
        x += width

    value = format_amount(row.total)
    if row.credit:
        value += f"  (credit {format_amount(row.credit)})"
    draw.text((x + 8, top + 2), value, fill=INK, font=font)


def _ticks(peak: Decimal) -> tuple[int, int]:
    """A round step (1, 2 or 5 times a power of ten) and how many cover ``peak``."""
    if peak <= 0:
        return 1, 1
    rough = float(peak) / 5
    power = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next((m * power for m in (1, 2, 5, 10) if m * power >= rough), 10 * power)
    return int(step), max(1, math.ceil(peak / step))


def _fit(text: str, width: float, font: Font) -> str:
    """``text`` cut short with an ellipsis so that it fits in ``width`` pixels."""
    if font.getlength(text) <= width:
        return text
    while text and font.getlength(text + "…") > width:
        text = text[:-1]
    return text.rstrip() + "…"
