"""Plotly scatter and line plots as inline SVG, for the embedded server's task pages.

The pages load no script, so the plotly JSON a task reported (``Logger.report_scatter2d``,
``report_line_plot``, ClearML's HyperParameterOptimizer's objective plot) is drawn here:
every trace's points and lines on shared axes, with their ranges and a legend. Other plot
kinds are named, not drawn; the ClearML web UI draws them.
"""
from __future__ import annotations

import math
from html import escape

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 60, 150, 16, 34  # room for the y labels and the legend
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
