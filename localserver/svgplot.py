"""Plotly scatter, line and parallel-coordinates plots as inline SVG, for the embedded
server's task pages.

The pages load no script, so the plotly JSON a task reported (``Logger.report_scatter2d``,
``report_line_plot``, ClearML's HyperParameterOptimizer's objective and parallel-coordinates
plots) is drawn here: every trace's points and lines on shared axes, with their ranges and a
legend; for parallel coordinates one line per row across the dimensions' axes, coloured by
its value on the last one (the objective). Other plot kinds are named, not drawn; the
ClearML web UI draws them.
"""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 16, 34  # room for the y labels and the legend
MAX_TICKS = 12  # labels on one parallel-coordinates axis
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2")


def _number(value) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(value) else None


def _points(trace: dict) -> list[tuple[float, float]]:
    """(x, y) pairs of a trace; x given as text (categories) is drawn by position."""
    ys = trace.get("y") or []
    xs = trace.get("x")
    if xs is None or not all(_number(x) is not None for x in xs if x is not None):
        xs = list(range(len(ys)))
    return [(float(x), y) for x, y in ((_number(a), _number(b)) for a, b in zip(xs, ys))
            if x is not None and y is not None]


def drawable(plot: dict) -> bool:
    traces = plot.get("data") or []
    return bool(traces) and all(t.get("type", "scatter") in ("scatter", "scattergl")
                                for t in traces)


def draw(plot: dict) -> str | None:
    """The plot as SVG, or None for a kind not drawn here."""
    traces = plot.get("data") or []
    if len(traces) == 1 and traces[0].get("type") == "parcoords":
        return parcoords_svg(traces[0])
    return scatter_svg(plot) if drawable(plot) else None


def _scale(low: float, high: float, out_low: float, out_high: float):
    span = (high - low) or 1.0
    return lambda v: out_low + (v - low) / span * (out_high - out_low)


def scatter_svg(plot: dict) -> str:
    """An SVG of the plot's scatter traces (points and/or lines, as each trace's mode says)."""
    traces = [(t, _points(t)) for t in plot.get("data") or []]
    every = [p for _, pts in traces for p in pts]
    if not every:
        return "<p>(no points)</p>"
    xs, ys = [p[0] for p in every], [p[1] for p in every]
    sx = _scale(min(xs), max(xs), LEFT, WIDTH - RIGHT)
    sy = _scale(min(ys), max(ys), HEIGHT - BOTTOM, TOP)
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{WIDTH}' height='{HEIGHT}' "
             f"font-size='11' font-family='sans-serif'>",
             f"<rect x='{LEFT}' y='{TOP}' width='{WIDTH - LEFT - RIGHT}' "
             f"height='{HEIGHT - TOP - BOTTOM}' fill='none' stroke='#999'/>"]
    parts += _axis_labels(min(xs), max(xs), min(ys), max(ys), plot.get("layout") or {})
    for i, (trace, pts) in enumerate(traces):
        colour, mode = COLOURS[i % len(COLOURS)], str(trace.get("mode") or "markers")
        if "lines" in mode and len(pts) > 1:
            path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)
            parts.append(f"<polyline points='{path}' fill='none' stroke='{colour}'/>")
        if "markers" in mode or "lines" not in mode:
            parts += [f"<circle cx='{sx(x):.1f}' cy='{sy(y):.1f}' r='3' fill='{colour}'/>"
                      for x, y in pts]
        name = escape(str(trace.get("name") or f"trace {i + 1}"))[:24]
        y0 = TOP + 14 * i + 8
        parts.append(f"<rect x='{WIDTH - RIGHT + 10}' y='{y0 - 7}' width='10' height='8' "
                     f"fill='{colour}'/><text x='{WIDTH - RIGHT + 24}' y='{y0}'>{name}</text>")
    return "".join(parts) + "</svg>"


def _title(layout: dict, axis: str) -> str:
    title = (layout.get(axis) or {}).get("title")
    return escape(str(title.get("text") if isinstance(title, dict) else title or ""))


def _axis_labels(x_low, x_high, y_low, y_high, layout: dict) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    return [f"<text x='{LEFT}' y='{bottom + 14}'>{x_low:.4g}</text>",
            f"<text x='{right}' y='{bottom + 14}' text-anchor='end'>{x_high:.4g}</text>",
            f"<text x='{(LEFT + right) / 2}' y='{bottom + 28}' text-anchor='middle'>"
            f"{_title(layout, 'xaxis')}</text>",
            f"<text x='{LEFT - 4}' y='{bottom}' text-anchor='end'>{y_low:.4g}</text>",
            f"<text x='{LEFT - 4}' y='{TOP + 10}' text-anchor='end'>{y_high:.4g}</text>",
            f"<text x='12' y='{(TOP + bottom) / 2}' text-anchor='middle' "
            f"transform='rotate(-90 12 {(TOP + bottom) / 2})'>{_title(layout, 'yaxis')}</text>"]


def _viridis(t: float) -> str:
    """A colour from dark purple (0) through teal to yellow (1), as plotly's Viridis."""
    stops = ((68, 1, 84), (33, 145, 140), (253, 231, 37))
    t = min(max(t, 0.0), 1.0) * (len(stops) - 1)
    i = min(int(t), len(stops) - 2)
    mix = [a + (b - a) * (t - i) for a, b in zip(stops[i], stops[i + 1])]
    return "#" + "".join(f"{round(c):02x}" for c in mix)


def _dimension(dim: dict) -> tuple[str, list, list[tuple[float, str]]]:
    """(label, values, ticks as (value, text)) of one parallel-coordinates dimension."""
    values = [_number(v) for v in dim.get("values") or []]
    ticks = list(zip(dim.get("tickvals") or [], dim.get("ticktext") or []))
    if not ticks:
        known = [v for v in values if v is not None]
        ticks = [(v, f"{v:.4g}") for v in sorted({min(known), max(known)})] if known else []
    if len(ticks) > MAX_TICKS:  # as many labels as fit on the axis, ends included
        step = math.ceil((len(ticks) - 1) / (MAX_TICKS - 1))
        ticks = ticks[:-1:step] + ticks[-1:]
    return escape(str(dim.get("label", "")))[:18], values, \
        [(float(v), escape(str(text))[:12]) for v, text in ticks if _number(v) is not None]


def parcoords_svg(trace: dict) -> str:
    """One vertical axis per dimension (its range, or its categories), one line per row."""
    dims = [_dimension(d) for d in trace.get("dimensions") or []]
    rows = max((len(values) for _, values, _ in dims), default=0)
    if len(dims) < 2 or not rows:
        return "<p>(no rows)</p>"
    width = max(WIDTH, 110 * len(dims))
    xs = [LEFT + i * (width - 2 * LEFT) / (len(dims) - 1) for i in range(len(dims))]
    scales = []
    for _, values, ticks in dims:
        known = [v for v in values if v is not None] + [v for v, _ in ticks]
        scales.append(_scale(min(known), max(known), HEIGHT - BOTTOM, TOP + 14))
    colour = [_number(c) for c in (trace.get("line") or {}).get("color") or []]
    known = [c for c in colour if c is not None]
    shade = _scale(min(known), max(known), 0.0, 1.0) if known else None
    parts = [f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{HEIGHT}' "
             f"font-size='11' font-family='sans-serif'>"]
    for row in range(rows):
        points = [f"{x:.1f},{scale(values[row]):.1f}" for x, scale, (_, values, _) in
                  zip(xs, scales, dims) if row < len(values) and values[row] is not None]
        c = colour[row] if row < len(colour) else None
        stroke = _viridis(shade(c)) if shade and c is not None else COLOURS[0]
        parts.append(f"<polyline points='{' '.join(points)}' fill='none' stroke='{stroke}' "
                     "stroke-opacity='0.8'/>")
    for x, scale, (label, _, ticks) in zip(xs, scales, dims):
        parts.append(f"<line x1='{x:.1f}' y1='{TOP + 14}' x2='{x:.1f}' y2='{HEIGHT - BOTTOM}' "
                     f"stroke='#333'/><text x='{x:.1f}' y='{TOP + 4}' text-anchor='middle' "
                     f"font-weight='bold'>{label}</text>")
        parts += [f"<text x='{x + 3:.1f}' y='{scale(v) + 4:.1f}'>{text}</text>" for v, text in ticks]
    if known:
        parts.append(f"<text x='{LEFT}' y='{HEIGHT - 10}'>colour: {dims[-1][0]}, low "
                     f"<tspan fill='{_viridis(0)}'>&#9632;</tspan> to high "
                     f"<tspan fill='{_viridis(1)}'>&#9632;</tspan></text>")
    return "".join(parts) + "</svg>"
