"""Charts as inline SVG, drawn on the server: no script, styled by classes in site.css.

Every chart is an ``<svg role="img">`` labelled by its ``<title>`` and ``<desc>``, every mark
carries its own ``<title>`` (a tooltip and a label for screen readers), and every piece of text
is escaped. Callers pass text already translated and numbers already formatted (the
``value_format`` callables), so the helpers know nothing about locales.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import date, time

from babel.dates import format_skeleton, get_day_names
from markupsafe import Markup, escape

Formatter = Callable[[float], str]


def _plain(value: float) -> str:
    return f"{value:g}"


def _id(kind: str, *parts: object) -> str:
    digest = hashlib.sha1(repr((kind, parts)).encode(), usedforsecurity=False).hexdigest()
    return f"{kind}-{digest[:10]}"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _frame(
    kind: str, width: float, height: float, title: str, desc: str, body: list[str]
) -> Markup:
    ident = _id(kind, title, desc, len(body))
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart chart-{kind}" role="img" '
        f'viewBox="0 0 {width:g} {height:g}" preserveAspectRatio="xMinYMin meet" '
        f'aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title><desc id="{ident}-d">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 - every text part is escaped


def weekday_names(locale: str) -> list[str]:
    """Monday to Sunday, abbreviated in ``locale`` (the rows of the listening clock)."""
    names = get_day_names("abbreviated", locale=locale)
    return [names[day] for day in range(7)]


def hour_names(locale: str) -> list[str]:
    """The hours 0-23 as ``locale`` writes an hour on its own ("09", "09 Uhr", "9時"): the
    columns of the listening clock."""
    return [format_skeleton("H", time(hour), locale=locale) for hour in range(24)]


def bar_chart(
    rows: Sequence[tuple[str, float]],
    *,
    title: str,
    desc: str = "",
    links: Sequence[str | None] | None = None,
    value_format: Formatter = _plain,
    width: int = 640,
    row_height: int = 26,
    label_chars: int = 30,
) -> Markup:
    """Horizontal bars, one per (label, value), longest first as given; ``links`` makes each
    label a link (same order)."""
    label_width = width * 0.38
    value_width = 64
    bar_space = width - label_width - value_width - 12
    top = max((v for _, v in rows), default=0) or 1
    body: list[str] = []
    for index, (label, value) in enumerate(rows):
        y = index * row_height
        length = max(bar_space * value / top, 1.0 if value else 0.0)
        shown = escape(_shorten(label, label_chars))
        text = (
            f'<text class="label" x="{label_width - 8:g}" y="{y + row_height * 0.68:g}" '
            f'text-anchor="end">{shown}</text>'
        )
        href = links[index] if links is not None and index < len(links) else None
        if href:
            text = f'<a href="{escape(href)}">{text}</a>'
        body.append(
            f'<g class="row">{text}'
            f'<rect class="bar" x="{label_width:g}" y="{y + 4:g}" width="{length:.1f}" '
            f'height="{row_height - 8:g}" rx="3"><title>{escape(label)}: '
            f"{escape(value_format(value))}</title></rect>"
            f'<text class="value" x="{label_width + length + 6:.1f}" '
            f'y="{y + row_height * 0.68:g}">{escape(value_format(value))}</text></g>'
        )
    height = max(len(rows), 1) * row_height
    return _frame("bar", width, height, title, desc, body)


def heatmap(
    grid: Sequence[Sequence[float]],
    *,
    title: str,
    row_labels: Sequence[str],
    column_labels: Sequence[str] | None = None,
    desc: str = "",
    value_format: Formatter = _plain,
    cell: int = 22,
) -> Markup:
    """A grid of cells shaded by value: the listening clock is 7 weekdays x 24 hours
    (``column_labels`` default to the hours 0-23, labelled every third)."""
    columns = max((len(row) for row in grid), default=0)
    labels = list(column_labels) if column_labels is not None else [str(h) for h in range(columns)]
    left, top_margin = 44, 18
    peak = max((v for row in grid for v in row), default=0) or 1
    body: list[str] = []
    for c in range(0, columns, 3 if columns > 12 else 1):
        body.append(
            f'<text class="axis" x="{left + c * cell + cell / 2:g}" y="12" '
            f'text-anchor="middle">{escape(labels[c] if c < len(labels) else "")}</text>'
        )
    for r, row in enumerate(grid):
        name = row_labels[r] if r < len(row_labels) else ""
        y = top_margin + r * cell
        body.append(
            f'<text class="axis" x="{left - 6}" y="{y + cell * 0.68:g}" '
            f'text-anchor="end">{escape(name)}</text>'
        )
        for c, value in enumerate(row):
            shade = 0.0 if not value else 0.12 + 0.88 * value / peak
            column = labels[c] if c < len(labels) else str(c)
            body.append(
                f'<rect class="cell{" empty" if not value else ""}" x="{left + c * cell + 1}" '
                f'y="{y + 1}" width="{cell - 2}" height="{cell - 2}" rx="2" '
                f'fill-opacity="{shade:.2f}"><title>{escape(name)} {escape(column)}: '
                f"{escape(value_format(value))}</title></rect>"
            )
    return _frame(
        "heatmap", left + columns * cell + 4, top_margin + len(grid) * cell + 2, title, desc, body
    )


def line_chart(
    points: Sequence[tuple[str | date, float]],
    *,
    title: str,
    desc: str = "",
    area: bool = True,
    value_format: Formatter = _plain,
    label_format: Callable[[str | date], str] = str,
    width: int = 640,
    height: int = 200,
) -> Markup:
    """A line (and the area under it) over ordered points such as days; the first, middle
    and last points are labelled, and the peak value is marked on the axis."""
    left, right, top, bottom = 48, 12, 10, 24
    inner_w, inner_h = width - left - right, height - top - bottom
    peak = max((v for _, v in points), default=0) or 1
    count = len(points)

    def x(i: int) -> float:
        return left + (inner_w * i / (count - 1) if count > 1 else inner_w / 2)

    def y(v: float) -> float:
        return top + inner_h - inner_h * v / peak

    body = [
        f'<line class="axis-line" x1="{left}" y1="{top + inner_h}" x2="{width - right}" '
        f'y2="{top + inner_h}"/>',
        f'<text class="axis" x="{left - 6}" y="{top + 10}" text-anchor="end">'
        f"{escape(value_format(peak))}</text>",
        f'<text class="axis" x="{left - 6}" y="{top + inner_h}" text-anchor="end">'
        f"{escape(value_format(0))}</text>",
    ]
    if count:
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, (_, v) in enumerate(points))
        if area:
            body.append(
                f'<polygon class="area" points="{left if count > 1 else x(0):.1f},'
                f'{top + inner_h} {coords} {x(count - 1):.1f},{top + inner_h}"/>'
            )
        body.append(f'<polyline class="line" points="{coords}"/>')
        for i, (label, value) in enumerate(points):
            body.append(
                f'<circle class="point" cx="{x(i):.1f}" cy="{y(value):.1f}" r="3">'
                f"<title>{escape(label_format(label))}: {escape(value_format(value))}</title>"
                "</circle>"
            )
        for i in sorted({0, count // 2, count - 1}):
            anchor = "start" if i == 0 else "end" if i == count - 1 else "middle"
            body.append(
                f'<text class="axis" x="{x(i):.1f}" y="{height - 6}" text-anchor="{anchor}">'
                f"{escape(label_format(points[i][0]))}</text>"
            )
    return _frame("line", width, height, title, desc, body)


def histogram(
    values: Sequence[float],
    *,
    title: str,
    desc: str = "",
    bins: int = 10,
    bounds: tuple[float, float] | None = None,
    value_format: Formatter = _plain,
    count_format: Formatter = _plain,
    width: int = 640,
    height: int = 200,
) -> Markup:
    """How ``values`` spread over ``bins`` equal ranges between ``bounds`` (default: their
    minimum and maximum); each bar's tooltip gives its range and count."""
    low, high = bounds if bounds is not None else (min(values, default=0), max(values, default=0))
    if high <= low:
        high = low + 1
    step = (high - low) / bins
    counts = [0] * bins
    for value in values:
        if low <= value <= high:
            counts[min(int((value - low) / step), bins - 1)] += 1
    left, bottom, top = 40, 24, 10
    inner_w, inner_h = width - left - 8, height - top - bottom
    peak = max(counts) or 1
    bar_w = inner_w / bins
    body = [
        f'<text class="axis" x="{left - 6}" y="{top + 10}" text-anchor="end">'
        f"{escape(count_format(peak))}</text>"
    ]
    for i, n in enumerate(counts):
        h = inner_h * n / peak
        start, end = low + i * step, low + (i + 1) * step
        body.append(
            f'<rect class="bar" x="{left + i * bar_w + 1:.1f}" y="{top + inner_h - h:.1f}" '
            f'width="{bar_w - 2:.1f}" height="{h:.1f}"><title>{escape(value_format(start))}–'
            f"{escape(value_format(end))}: {escape(count_format(n))}</title></rect>"
        )
    for i in (0, bins):
        anchor = "start" if i == 0 else "end"
        body.append(
            f'<text class="axis" x="{left + i * bar_w:.1f}" y="{height - 6}" '
            f'text-anchor="{anchor}">{escape(value_format(low + i * step))}</text>'
        )
    return _frame("histogram", width, height, title, desc, body)
