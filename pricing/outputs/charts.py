"""The report's two charts as plain geometry, drawn as inline SVG by ``templates/charts.html.j2``.

No chart library and no script draws them: the page is light (a few kilobytes per chart) and
reads offline in any browser. Each function returns coordinates in the chart's own SVG units
(its ``viewBox``), rounded to a tenth, with the text each element shows and its hover title.

* :func:`waterfall_chart`: one product's per-unit waterfall (steps in fen, exact
  :class:`~fractions.Fraction` values; labels rounded down to the fen as the rest of the report);
* :func:`margin_bars`: every product's margin, sorted; one bar per product up to
  ``LABELLED_BARS`` products (its SKU under it), above that one bar per pixel column spanning
  the products it holds (its hover names the first and last SKU and how many are red).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from markupsafe import Markup, escape

from models.money import format_yuan, fraction_floor_fen

WIDTH = 900
LABELLED_BARS = 150
COLUMNS_AT_MOST = 600


@dataclass(frozen=True)
class Frame:
    """The plot area inside the SVG and its y scale (fen → SVG units)."""

    left: float
    top: float
    width: float
    height: float
    low_fen: float
    high_fen: float

    def y(self, fen: float) -> float:
        span = self.high_fen - self.low_fen or 1.0
        return round(self.top + (self.high_fen - fen) / span * self.height, 1)

    @property
    def bottom(self) -> float:
        return self.top + self.height


def _yuan(value: Fraction | int) -> str:
    return format_yuan(fraction_floor_fen(Fraction(value)))


def nice_ticks(low_fen: float, high_fen: float, count: int = 5) -> list[float]:
    """Round tick values (fen) covering ``[low, high]``: steps of 1, 2 or 5 × 10ⁿ yuan-cents."""
    span = high_fen - low_fen
    if span <= 0:
        return [low_fen]
    raw = span / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low_fen / step) * step
    ticks = []
    value = first
    while value <= high_fen + 1e-9:
        ticks.append(value)
        value += step
    return ticks


def _axis(frame: Frame) -> dict[str, object]:
    """The y axis: one path for the grid lines, a label per tick, the zero line."""
    ticks = nice_ticks(frame.low_fen, frame.high_fen)
    right = round(frame.left + frame.width)
    return {
        "grid": "".join(f"M{round(frame.left)} {round(frame.y(t))}H{right}" for t in ticks),
        "ticks": [{"y": round(frame.y(t)) + 4, "label": short_tick(t)} for t in ticks],
        "x": round(frame.left) - 6, "zero": round(frame.y(0)), "left": round(frame.left),
        "right": right, "middle": round(frame.top + frame.height / 2),
    }


def short_tick(fen: float) -> str:
    """A tick label in yuan without needless decimals (``-12.5``, ``1,000``)."""
    yuan = fen / 100
    if abs(yuan - round(yuan)) < 1e-9:
        return f"{round(yuan):,}"
    return f"{yuan:,.2f}".rstrip("0").rstrip(".")


@dataclass(frozen=True)
class Step:
    """One step of a waterfall: its label key, how it is measured and its value per unit."""

    key: str
    measure: str  # "absolute" or "total" (from zero) or "relative" (from the running level)
    value: Fraction


def waterfall_chart(
    steps: Sequence[Step], labels: dict[str, str], title: str, height: int = 400
) -> dict[str, object]:
    """The geometry of one waterfall: bars, value labels, dotted connectors, the y axis, and
    the names of its steps (``label_keys``: charts with the same steps share one drawing of
    their step names, see ``step_labels``). Whole SVG units keep 400 charts light."""
    levels: list[tuple[Fraction, Fraction]] = []
    level = Fraction(0)
    for step in steps:
        if step.measure == "relative":
            levels.append((level, level + step.value))
            level += step.value
        else:
            levels.append((Fraction(0), step.value))
            level = step.value
    # Each level as a float once (float() keeps the order, so max and min commute with it;
    # a zero's sign aside, which the y scale does not see).
    floats = [(float(start), float(end)) for start, end in levels]
    low = min([0.0, *(min(pair) for pair in floats)])
    high = max([0.0, *(max(pair) for pair in floats)])
    pad = 0.12 * ((high - low) or 100.0)
    frame = _waterfall_frame(height, low - (pad if low < 0 else 0), high + pad)
    band = frame.width / max(1, len(steps))
    bar = round(band * 0.62)
    bars = []
    connector = []
    for position, (step, (start, end), (start_y, end_y)) in enumerate(
        zip(steps, levels, floats, strict=True)
    ):
        x = round(frame.left + position * band + (band - bar) / 2)
        top, bottom = round(frame.y(max(start_y, end_y))), round(frame.y(min(start_y, end_y)))
        kind = "t" if step.measure != "relative" else "u" if end >= start else "d"
        rising = end >= start if step.measure == "relative" else end >= 0
        bars.append({
            "x": x, "y": top, "w": bar, "h": max(bottom - top, 1), "kind": kind,
            "text": _yuan(step.value), "cx": x + bar // 2,
            "ty": top - 5 if rising else bottom + 13,
        })
        if position + 1 < len(steps):
            connector.append(f"M{x + bar} {round(frame.y(end_y))}h{round(band - bar)}")
    return {
        "height": height, "title": title, "frame": frame, "bars": bars,
        "connector": "".join(connector), "axis": _axis(frame),
        "label_keys": tuple(step.key for step in steps),
    }


def draw_waterfall(chart: dict[str, object], index: int, names: int, unit: str) -> Markup:
    """One waterfall as inline SVG, escaped like the templates (tests/test_fast_paths.py holds
    it to a Jinja2 macro using the report's ``axis``), joined as plain strings because the
    report draws up to 400 of them."""
    axis: dict[str, Any] = chart["axis"]  # type: ignore[assignment]
    bars: list[dict[str, Any]] = chart["bars"]  # type: ignore[assignment]
    parts = [
        f'<svg class="chart waterfall" viewBox="0 0 900 {escape(chart["height"])}" role="img"',
        " hidden" if index else "",
        f'>\n<text class="title" x="450" y="20">{escape(chart["title"])}</text>',
        f'<path class="grid" d="{escape(axis["grid"])}"/><g class="ticks">',
    ]
    x = escape(axis["x"])
    parts.extend(f'<text x="{x}" y="{escape(tick["y"])}">{escape(tick["label"])}</text>'
                 for tick in axis["ticks"])
    zero = escape(axis["zero"])
    parts.append(
        f'</g><text class="unit" transform="translate(14 {escape(axis["middle"])}) '
        f'rotate(-90)">{escape(unit)}</text>'
        f'<line class="zero" x1="{escape(axis["left"])}" x2="{escape(axis["right"])}" '
        f'y1="{zero}" y2="{zero}"/>\n<path class="connector" d="{escape(chart["connector"])}"/>'
    )
    parts.extend(
        f'<rect class="{escape(bar["kind"])}" x="{escape(bar["x"])}" y="{escape(bar["y"])}" '
        f'width="{escape(bar["w"])}" height="{escape(bar["h"])}"/>'
        f'<text x="{escape(bar["cx"])}" y="{escape(bar["ty"])}">{escape(bar["text"])}</text>'
        for bar in bars
    )
    parts.append(f'<use href="#steps-{escape(names)}"/>\n</svg>')
    return Markup("".join(parts))


def _waterfall_frame(height: int, low_fen: float, high_fen: float) -> Frame:
    return Frame(left=64, top=34, width=WIDTH - 64 - 16, height=height - 34 - 78,
                 low_fen=low_fen, high_fen=high_fen)


def step_labels(
    keys: Sequence[str], labels: dict[str, str], height: int = 400
) -> list[dict[str, object]]:
    """Where a waterfall with these steps writes their names (under each bar, slanted)."""
    frame = _waterfall_frame(height, 0, 1)
    band = frame.width / max(1, len(keys))
    return [{"x": round(frame.left + (position + 0.5) * band), "y": round(frame.bottom + 14),
             "text": labels[key]} for position, key in enumerate(keys)]


@dataclass(frozen=True)
class MarginBar:
    """A product in the sorted margin chart: its SKU, the margin (fen) and whether it is red."""

    sku: str
    margin_fen: int
    bad: bool
    hover: str


def margin_bars(
    products: Sequence[MarginBar], many_title: str, height: int = 380
) -> dict[str, object]:
    """Every product's margin sorted from the least; grouped into pixel columns when many."""
    ordered = sorted(products, key=lambda p: (p.margin_fen, p.sku))
    labelled = len(ordered) <= LABELLED_BARS
    low = float(min([0, *(p.margin_fen for p in ordered)]))
    high = float(max([0, *(p.margin_fen for p in ordered)]))
    pad = 0.08 * ((high - low) or 100.0)
    frame = Frame(left=64, top=12, width=WIDTH - 64 - 16,
                  height=height - 12 - (110 if labelled else 40),
                  low_fen=low - (pad if low < 0 else 0), high_fen=high + pad)
    groups: list[list[MarginBar]]
    if labelled:
        groups = [[p] for p in ordered]
    else:
        columns = min(len(ordered), COLUMNS_AT_MOST)
        groups = [[] for _ in range(columns)]
        for position, product in enumerate(ordered):
            groups[position * columns // len(ordered)].append(product)
    band = frame.width / max(1, len(groups))
    zero = frame.y(0)
    bars = []
    for position, group in enumerate(groups):
        least, most = group[0].margin_fen, group[-1].margin_fen
        top, bottom = frame.y(max(most, 0)), frame.y(min(least, 0))
        red = sum(p.bad for p in group)
        if len(group) == 1:
            hover = group[0].hover
        else:
            hover = (f"{group[0].sku} … {group[-1].sku} ({len(group)}): "
                     f"¥{format_yuan(least)} … ¥{format_yuan(most)}")
            if red:
                hover += f" · {red} ✗"
        x = frame.left + position * band
        bars.append({
            "x": round(x + (band * 0.08 if labelled else 0), 1),
            "w": round(band * (0.84 if labelled else 1.0), 2),
            "y": top, "h": round(max(bottom - top, 0.8), 1),
            "bad": bool(red), "hover": hover,
            "sku": group[0].sku, "cx": round(x + band / 2, 1),
        })
    return {
        "height": height, "frame": frame, "bars": bars, "axis": _axis(frame), "zero": zero,
        "labelled": labelled, "label_y": round(frame.bottom + 8, 1),
        "many_title": None if labelled else many_title,
    }


__all__ = ["MarginBar", "Step", "margin_bars", "nice_ticks", "step_labels", "waterfall_chart"]
