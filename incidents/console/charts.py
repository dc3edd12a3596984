"""Server-side SVG charts for the staff dashboard, in plain Python.

line_chart draws trends (a few named series over, say, twelve weeks); bar_chart draws one
horizontal bar per row (departments, wards), with an optional target line. Each returns one
standalone <svg> element to put inline in a page: it scales to its container (width="100%"
and a viewBox), names itself to screen readers through its <title> and <desc>, and uses ids
unique to the call, so several charts can share a page.

Every piece of text in a chart can come from a user-editable name, so all of it is
XML-escaped, and characters XML cannot hold at all are dropped. Series are told apart by
colour (Okabe-Ito, safe for colour-blind readers) and by dash pattern, so colour is never
the only carrier.

Text widths are estimated from character counts (there is no font metrics library on the
server); the estimates err on the wide side so labels are not clipped.
"""

from __future__ import annotations

import math
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

__all__ = ["bar_chart", "line_chart"]

# Okabe & Ito's palette, reordered so the colours that read best on white come first; yellow,
# nearly invisible on white, is last.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
# One dash pattern per series, so charts printed in grey or seen without colour still work.
DASHES = ("", "7 3", "2 3", "9 3 2 3", "4 4", "1 3", "12 4", "6 2 2 2 2 2")

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
TITLE_SIZE = 14
TEXT_SIZE = 11
INK = "#222"
MUTED = "#666"
GRID = "#e3e3e3"
AXIS = "#999"
BAR = PALETTE[0]
TARGET = PALETTE[1]

MAX_LABEL_CHARS = 28
MAX_X_LABELS = 12

# Characters XML 1.0 cannot contain, even escaped: a department named with a stray control
# character must not make the whole page unparsable.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# Text -------------------------------------------------------------------------------------


def _clean(text: object) -> str:
    # NFC first, so that truncation never separates a Vietnamese letter from its diacritics.
    return _NOT_XML.sub("", unicodedata.normalize("NFC", str(text)))


def _text(text: object) -> str:
    """Text content, escaped."""
    return escape(_clean(text))


def _attr(text: object) -> str:
    """An attribute value (to go between double quotes), escaped."""
    return escape(_clean(text), {'"': "&quot;", "'": "&apos;"})


def _truncate(text: str, limit: int = MAX_LABEL_CHARS) -> str:
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _width(text: str, size: float) -> float:
    """Rough rendered width: 0.62 em a character is a little wider than system-ui's average,
    so space reserved from it is rarely too small."""
    return len(text) * size * 0.62


def _fit(text: str, size: float, room: float) -> str:
    """text shortened with an ellipsis until it should fit in room."""
    text = _clean(text)
    limit = len(text)
    while limit > 1 and _width(_truncate(text, limit) if limit < len(text) else text, size) > room:
        limit -= 1
    return _truncate(text, limit) if limit < len(text) else text


def _num(value: float) -> str:
    """A coordinate for an attribute: two decimals are finer than any screen."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _finite(value: object) -> float | None:
    """value as a float, or None when it is missing, NaN or infinite."""
    if value is None:
        return None
    number = float(value)  # Decimals from the ORM's aggregates are welcome too.
    return number if math.isfinite(number) else None


# Frame ------------------------------------------------------------------------------------


def _svg(width: float, height: float, title: str, desc: str, body: Iterable[str]) -> str:
    uid = uuid.uuid4().hex[:12]
    title_id, desc_id = f"chart-{uid}-title", f"chart-{uid}-desc"
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_num(width)} {_num(height)}" '
            f'width="100%" role="img" aria-labelledby="{_attr(title_id)}" '
            f'aria-describedby="{_attr(desc_id)}" font-family="{_attr(FONT)}" '
            f'font-size="{TEXT_SIZE}" fill="{INK}">',
            f'<title id="{_attr(title_id)}">{_text(title)}</title>',
            f'<desc id="{_attr(desc_id)}">{_text(desc)}</desc>',
            # The visible title; the full one is in <title> if it had to be shortened.
            f'<text class="chart-title" x="8" y="20" font-size="{TITLE_SIZE}" font-weight="600">'
            f"{_text(_fit(title, TITLE_SIZE, width - 16))}</text>",
            *body,
            "</svg>",
        ]
    )


def _empty(title: str, empty_text: str, width: int) -> str:
    return _svg(
        width,
        72,
        title,
        empty_text,
        [
            f'<text class="empty" x="{_num(width / 2)}" y="52" text-anchor="middle" fill="{MUTED}">'
            f"{_text(empty_text)}</text>"
        ],
    )


# Line chart -------------------------------------------------------------------------------


def _ticks(low: float, high: float, whole: bool) -> list[float]:
    """Round tick values from at most low to at least high, 0 among them, in steps of 1, 2,
    2.5 or 5 times a power of ten: the finest step that needs no more than 4 intervals, which
    gives 4 or 5 ticks. With whole data (counts), steps are whole too, since half an incident
    is no tick mark; small counts then get fewer ticks (0 and 1 for a maximum of 1)."""
    low, high = min(low, 0.0), max(high, 0.0)
    if high == low:
        high = low + 1
    raw = (high - low) / 4
    exponent = math.floor(math.log10(raw))
    for power in range(exponent - 1, exponent + 3):
        for multiple in (1, 2, 2.5, 5):
            step = multiple * 10.0**power
            if whole and (step < 1 or not step.is_integer()):
                continue
            # The small tolerances keep 0.30000000000000004 from needing an extra step.
            first = math.floor(low / step + 1e-9)
            last = math.ceil(high / step - 1e-9)
            if last - first <= 4:
                # round() and + 0.0 turn float dust and -0.0 into values that print cleanly.
                return [round(k * step, 10) + 0.0 for k in range(first, last + 1)]
    raise AssertionError("unreachable: a step of 10 ** (exponent + 2) always fits")


def _shown_labels(count: int, spacing: float, widest: float) -> set[int]:
    """Which x labels to print: all up to twelve when they fit, else every k-th, counted back
    from the last one, since the latest week is the one people look for."""
    every = max(1, math.ceil(count / MAX_X_LABELS))
    if spacing > 0:
        every = max(every, math.ceil((widest + 6) / spacing))
    return {i for i in range(count) if (count - 1 - i) % every == 0}


def line_chart(
    title: str,
    x_labels: list[str],
    series: list[tuple[str, list[float | None]]],
    *,
    y_format: str = "{:g}",
    width: int = 640,
    height: int = 240,
    empty_text: str = "No data",
) -> str:
    """An SVG line chart of several named series over the same x labels.

    Each series has one value per x label; None (or NaN, or infinity) is a missing value and
    leaves a gap in the line, and a point with no neighbour on either side is drawn as a
    marker alone. The y axis runs over round ticks from 0 (or below, for negative values) to
    just above the largest value. Raises ValueError if a series' length differs from
    x_labels', which is a bug in the caller rather than something to draw around.
    """
    for name, values in series:
        if len(values) != len(x_labels):
            raise ValueError(
                f"series {name!r} has {len(values)} values for {len(x_labels)} x labels"
            )
    clean = [(name, [_finite(v) for v in values]) for name, values in series]
    present = [v for _, values in clean for v in values if v is not None]
    if not x_labels or not present:
        return _empty(title, empty_text, width)

    ticks = _ticks(min(present), max(present), all(v.is_integer() for v in present))
    tick_texts = [y_format.format(t) for t in ticks]
    labels = [_clean(label) for label in x_labels]
    count = len(labels)

    # Legend: a sample of the line (colour and dash) and the name, flowing in rows under the
    # title, wrapping when the next entry would not fit.
    legend: list[str] = []
    x, y = 8.0, 42.0
    for index, (name, _values) in enumerate(clean):
        short = _truncate(name)
        entry = 28 + 6 + _width(short, TEXT_SIZE) + 16
        if x > 8 and x + entry > width - 8:
            x, y = 8.0, y + 18
        colour, dash = _style(index)
        legend.append(
            f'<g class="legend-entry"><title>{_text(name)}</title>'
            f'<line x1="{_num(x)}" y1="{_num(y - 4)}" x2="{_num(x + 28)}" y2="{_num(y - 4)}" '
            f'stroke="{colour}" stroke-width="2"{_dash_attr(dash)}/>'
            f'<circle cx="{_num(x + 14)}" cy="{_num(y - 4)}" r="3" fill="{colour}" stroke="#fff"/>'
            f'<text x="{_num(x + 34)}" y="{_num(y)}">{_text(short)}</text></g>'
        )
        x += entry

    # The plot's frame: room on the left for the tick labels, and at both ends for half of
    # the first and last x label, which are centred on the first and last points.
    widest_tick = max(_width(t, TEXT_SIZE) for t in tick_texts)
    first_half = _width(labels[0], TEXT_SIZE) / 2
    last_half = _width(labels[-1], TEXT_SIZE) / 2
    left = max(8 + widest_tick + 8, first_half + 8)
    right = width - max(16, last_half + 8)
    top = y + 16
    bottom = max(height - 26, top + 100)  # a crowded legend grows the chart, not shrinks the plot
    total_height = bottom + 26

    def x_at(i: int) -> float:
        return (left + right) / 2 if count == 1 else left + (right - left) * i / (count - 1)

    def y_at(value: float) -> float:
        return bottom - (value - ticks[0]) / (ticks[-1] - ticks[0]) * (bottom - top)

    body: list[str] = ['<g class="grid">']
    for tick, text in zip(ticks, tick_texts):
        # The 0 line is darker when negative values put it inside the plot.
        stroke = AXIS if tick == 0 and ticks[0] < 0 else GRID
        body.append(
            f'<line x1="{_num(left)}" y1="{_num(y_at(tick))}" x2="{_num(right)}" '
            f'y2="{_num(y_at(tick))}" stroke="{stroke}"/>'
            f'<text class="y-tick" x="{_num(left - 6)}" y="{_num(y_at(tick))}" dy="0.35em" '
            f'text-anchor="end" fill="{MUTED}">{_text(text)}</text>'
        )
    body.append("</g>")
    body.append(
        f'<path class="axes" d="M{_num(left)} {_num(top)}V{_num(bottom)}H{_num(right)}" '
        f'fill="none" stroke="{AXIS}"/>'
    )

    spacing = (right - left) / (count - 1) if count > 1 else right - left
    labelled = _shown_labels(count, spacing, max(_width(label, TEXT_SIZE) for label in labels))
    body.append('<g class="x-labels">')
    for i in sorted(labelled):
        body.append(
            f'<text class="x-label" x="{_num(x_at(i))}" y="{_num(bottom + 16)}" '
            f'text-anchor="middle" fill="{MUTED}">{_text(labels[i])}</text>'
        )
    body.append("</g>")

    for index, (name, values) in enumerate(clean):
        colour, dash = _style(index)
        body.append(f'<g class="series" data-series="{index}">')
        for run in _runs(values):
            if len(run) > 1:  # a lone point has no line, only its marker
                points = " ".join(f"{_num(x_at(i))},{_num(y_at(values[i]))}" for i in run)
                body.append(
                    f'<polyline points="{points}" fill="none" stroke="{colour}" '
                    f'stroke-width="2" stroke-linejoin="round"{_dash_attr(dash)}/>'
                )
        for i, value in enumerate(values):
            if value is not None:
                # White outline keeps markers of different series apart where they meet.
                body.append(
                    f'<circle cx="{_num(x_at(i))}" cy="{_num(y_at(value))}" r="3" '
                    f'fill="{colour}" stroke="#fff"><title>'
                    f"{_text(f'{name} · {labels[i]}: {y_format.format(value)}')}</title></circle>"
                )
        body.append("</g>")

    desc = "; ".join(
        f"{_clean(name)}: "
        + ", ".join("–" if v is None else y_format.format(v) for v in values)
        for name, values in clean
    )
    desc = f"{labels[0]} to {labels[-1]}. {desc}" if count > 1 else f"{labels[0]}. {desc}"
    return _svg(width, total_height, title, desc, [*legend, *body])


def _style(index: int) -> tuple[str, str]:
    """Colour and dash pattern of the index-th series. Past the eighth series the dashes shift
    by one, so that no two series of a chart look alike."""
    return PALETTE[index % len(PALETTE)], DASHES[(index + index // len(PALETTE)) % len(DASHES)]


def _dash_attr(dash: str) -> str:
    return f' stroke-dasharray="{dash}"' if dash else ""


def _runs(values: Sequence[float | None]) -> list[list[int]]:
    """Indexes of the stretches of values with no None in them."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, value in enumerate(values):
        if value is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(i)
    if current:
        runs.append(current)
    return runs


# Bar chart --------------------------------------------------------------------------------


def bar_chart(
    title: str,
    rows: list[tuple[str, float]],
    *,
    value_format: str = "{:g}",
    target: float | None = None,
    target_label: str = "",
    width: int = 640,
    bar_height: int = 22,
    max_rows: int = 20,
    empty_text: str = "No data",
    more_text: str = "+{n} more",
) -> str:
    """An SVG chart of horizontal bars, one a row, in the order given, longest = largest value.

    Labels longer than 28 characters are shortened with an ellipsis; the full label is in a
    <title> for hover. Each bar ends with its value printed. Bars cannot go below 0: a
    negative value draws no bar, though its value is still printed as given. NaN and
    infinite values count as 0. A finite target draws a dashed vertical line with
    target_label above it (or the formatted target if there is no label). Beyond max_rows
    rows, the rest are left out and counted in a last line, "+N more" (more_text, which
    translations can replace; {n} is the count).
    """
    if not rows:
        return _empty(title, empty_text, width)
    values = [_finite(value) or 0.0 for _, value in rows]
    shown = list(zip((_clean(label) for label, _ in rows), values))[: max(max_rows, 0)]
    hidden = len(rows) - len(shown)
    goal = _finite(target)

    texts = [value_format.format(value) for _, value in shown]
    labels = [_truncate(label) for label, _ in shown]
    # The label column is as wide as the widest (shortened) label, within reason; on a narrow
    # chart, labels are shortened further to fit it rather than run off the left edge.
    label_room = min(max((_width(label, TEXT_SIZE) for label in labels), default=0), width * 0.4)
    labels = [_fit(label, TEXT_SIZE, label_room) for label in labels]
    bar_left = 8 + label_room + 8
    bar_room = width - bar_left - max((_width(t, TEXT_SIZE) for t in texts), default=0) - 14
    scale = max([0.0, *(v for _, v in shown), goal or 0.0])

    def length(value: float) -> float:
        return 0.0 if scale <= 0 else max(value, 0.0) / scale * bar_room

    pitch = bar_height + 6
    top = 34 + (18 if goal is not None else 0)  # the target's label sits above the bars
    body: list[str] = ['<g class="bars">']
    for i, ((label, value), short, text) in enumerate(zip(shown, labels, texts)):
        y = top + i * pitch
        middle = y + bar_height / 2
        body.append(
            f'<g class="row"><text class="bar-label" x="{_num(bar_left - 8)}" y="{_num(middle)}" '
            f'dy="0.35em" text-anchor="end"><title>{_text(label)}</title>{_text(short)}</text>'
            f'<rect class="bar" x="{_num(bar_left)}" y="{_num(y)}" width="{_num(length(value))}" '
            f'height="{bar_height}" fill="{BAR}"><title>{_text(f"{label}: {text}")}</title></rect>'
            f'<text class="bar-value" x="{_num(bar_left + length(value) + 4)}" '
            f'y="{_num(middle)}" dy="0.35em">{_text(text)}</text></g>'
        )
    body.append("</g>")
    bottom = top + len(shown) * pitch - 6
    body.append(
        f'<line class="baseline" x1="{_num(bar_left)}" y1="{_num(top - 2)}" '
        f'x2="{_num(bar_left)}" y2="{_num(bottom + 2)}" stroke="{AXIS}"/>'
    )

    if goal is not None:
        x = bar_left + length(goal)
        caption = _clean(target_label) or value_format.format(goal)
        half = _width(caption, TEXT_SIZE) / 2
        # Centred over the line unless that would push the caption off either edge.
        anchor, at = "middle", x
        if x + half > width - 4:
            anchor, at = "end", min(x + 4, width - 4)
        elif x - half < 4:
            anchor, at = "start", max(x - 4, 4)
        body.append(
            f'<g class="target"><line x1="{_num(x)}" y1="{_num(top - 6)}" x2="{_num(x)}" '
            f'y2="{_num(bottom + 4)}" stroke="{TARGET}" stroke-width="1.5" '
            f'stroke-dasharray="5 3"/>'
            f'<text x="{_num(at)}" y="{_num(top - 10)}" text-anchor="{anchor}" fill="{TARGET}">'
            f"{_text(caption)}</text></g>"
        )

    height = bottom + 10
    if hidden > 0:
        more = more_text.format(n=hidden)
        body.append(
            f'<text class="more" x="{_num(bar_left - 8)}" y="{_num(bottom + 20)}" '
            f'text-anchor="end" font-style="italic" fill="{MUTED}">{_text(more)}</text>'
        )
        height = bottom + 30

    desc = "; ".join(f"{label}: {text}" for (label, _), text in zip(shown, texts))
    if hidden > 0:
        desc += f"; {more_text.format(n=hidden)}"
    if goal is not None:
        desc += f". Target {value_format.format(goal)}" + (
            f" ({_clean(target_label)})" if target_label else ""
        )
    return _svg(width, height, title, desc, body)
