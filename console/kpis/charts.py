"""Small server-side SVG charts for the KPI page: horizontal bars and a line over weeks.

Every chart is an <svg role="img"> named by its <title>, scales to its box (viewBox, width
100%), and writes each value beside its bar or point, so nothing is told by colour alone.
Words come in already translated; this module only draws.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from math import ceil

from markupsafe import Markup, escape

WIDTH = 400
MIN_SPAN = 160  # the longest bar never shorter than this, however long the words
VALUE_GAP = 6  # between a bar's end and its value
LINE_GAP = 18  # between the baselines of two values: 14-unit text and its descent
_ids = count(1)


@dataclass(frozen=True)
class Bar:
    label: str  # what the bar is, written above it
    value: float
    text: str  # the value in words, written after the bar
    series: int = 0  # 0..2: fill and stroke pattern, for bars grouped under one label


@dataclass(frozen=True)
class Series:
    name: str
    points: list[float | None]  # 0..1 per x; None where there is nothing to measure
    texts: list[str]


def _svg(title: str, height: int, body: str, width: float = WIDTH) -> Markup:
    ident = f"chart-{next(_ids)}"
    return Markup(
        f'<svg class="chart" role="img" aria-labelledby="{ident}" '
        f'viewBox="0 0 {ceil(width)} {height}" '
        f'width="100%" preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}">{escape(title)}</title>{body}</svg>')


def text_width(text: str, bold: bool = False) -> float:
    """A generous guess of how wide `text` is drawn at 14 units: Chinese characters are a
    full em, others about 0.6 em (measured on Chromium's default sans)."""
    latin = 9.0 if bold else 8.1
    return sum(14.0 if ord(c) >= 0x2E80 else latin for c in text)


def bars(title: str, items: list[Bar], empty: str) -> Markup:
    """One bar per item, its label on the line above it, its value after it. Bars are as long
    as the words after them leave room for; if a label or value would still not fit, the
    drawing is widened (and so scaled down) rather than cut off."""
    if not items:
        return _svg(title, 40, f'<text x="0" y="24" class="empty">{escape(empty)}</text>')
    top = max((b.value for b in items), default=0) or 1
    width = max([WIDTH] + [text_width(b.label, bold=True) + 2 for b in items])
    room = [(b.value / top, text_width(b.text) + VALUE_GAP + 2) for b in items]
    span = max(MIN_SPAN, min([(width - need) / share for share, need in room if share]
                             or [width]))
    width = max([width] + [share * span + need for share, need in room])
    parts, y = [], 0
    for bar in items:
        if bar.label:
            y += 18
            parts.append(f'<text x="0" y="{y}" class="label">{escape(bar.label)}</text>')
        y += 4
        length = max(bar.value / top * span, 2 if bar.value else 0)
        parts.append(f'<rect x="0" y="{y}" width="{length:.1f}" height="14" '
                     f'class="bar s{bar.series % 3}"/>')
        parts.append(f'<text x="{length + VALUE_GAP:.1f}" y="{y + 12}" class="value">'
                     f'{escape(bar.text)}</text>')
        y += 18
    return _svg(title, y + 6, "".join(parts), width)


def trend(title: str, x_labels: list[str], series: list[Series], empty: str,
          x_title: str = "") -> Markup:
    """Rates (0..1) over x: one line per series, each with its own marker and dash, a legend in
    words, and the last measured value written at the end of its line; `x_title` says what
    the x labels are, under them."""
    if not x_labels:
        return _svg(title, 40, f'<text x="0" y="24" class="empty">{escape(empty)}</text>')
    left, right, top, plot_h = 46, WIDTH - 56, 26 + 18 * len(series), 150
    step = (right - left) / max(len(x_labels) - 1, 1)
    x_of = [left + i * step for i in range(len(x_labels))]
    parts = []
    for pct in (0, 50, 100):
        y = top + plot_h * (1 - pct / 100)
        parts.append(f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4}" class="axis" text-anchor="end">'
                     f'{pct}%</text>')
    every = 1 if len(x_labels) <= 6 else 2  # a date is ~40 units wide
    for i, (x, label) in enumerate(zip(x_of, x_labels, strict=True)):
        if (len(x_labels) - 1 - i) % every == 0:  # the latest week always named
            parts.append(f'<text x="{x:.1f}" y="{top + plot_h + 16}" class="axis" '
                         f'text-anchor="middle">{escape(label)}</text>')
    ends: list[tuple[float, float, str]] = []  # (x, y, text) of each series' last value
    for n, line in enumerate(series):
        legend_y = 12 + n * 18  # one legend line per series: long names never collide
        parts.append(f'<line x1="{left}" x2="{left + 24}" y1="{legend_y}" y2="{legend_y}" '
                     f'class="line s{n % 3}"/>{_marker(n, left + 12, legend_y)}'
                     f'<text x="{left + 30}" y="{legend_y + 4}" class="label">'
                     f'{escape(line.name)}</text>')
        runs: list[list[str]] = [[]]
        last = None
        for i, value in enumerate(line.points):
            if value is None:
                runs.append([])
                continue
            x, y = x_of[i], top + plot_h * (1 - value)
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(_marker(n, x, y))
            last = (x, y, line.texts[i])
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline points="{" ".join(run)}" class="line s{n % 3}"/>')
        if last:
            ends.append(last)
    parts += [f'<text x="{x + 6:.1f}" y="{y + 4:.1f}" class="value">{escape(text)}</text>'
              for x, y, text in _apart(ends, top, top + plot_h)]
    height = top + plot_h + 26
    if x_title:
        parts.append(f'<text x="{(left + right) / 2:.1f}" y="{height + 8}" class="axis" '
                     f'text-anchor="middle">{escape(x_title)}</text>')
        height += 20
    width = max([WIDTH] + [left + 32 + text_width(line.name, bold=True) for line in series])
    return _svg(title, height, "".join(parts), width)


def _apart(ends: list[tuple[float, float, str]], low: float, high: float
           ) -> list[tuple[float, float, str]]:
    """The end values moved up or down just enough not to cover each other (OTIF is never
    above on time, so the two often end a few points apart), kept inside the plot."""
    placed = sorted(ends, key=lambda e: e[1])
    ys = [y for _, y, _ in placed]
    for i in range(1, len(ys)):
        ys[i] = max(ys[i], ys[i - 1] + LINE_GAP)
    shift = max(0.0, ys[-1] - high) if ys else 0.0
    ys = [y - shift for y in ys]
    for i in range(len(ys) - 2, -1, -1):
        ys[i] = min(ys[i], ys[i + 1] - LINE_GAP)
    ys = [max(y, low) for y in ys]
    return [(x, y, text) for (x, _, text), y in zip(placed, ys, strict=True)]


def _marker(n: int, x: float, y: float) -> str:
    if n % 2 == 0:
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" class="mark s{n % 3}"/>'
    return (f'<rect x="{x - 4:.1f}" y="{y - 4:.1f}" width="8" height="8" '
            f'class="mark s{n % 3}"/>')
