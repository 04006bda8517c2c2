"""Small numpy → inline SVG charts for the evaluation report (no plotting library).

Three chart kinds: :func:`xy_chart` (lines and point clouds on linear axes),
:func:`histogram` and :func:`map_chart` (lat/lon, equirectangular: ``x = lon·cos φ_mid``,
``y = lat``). Each returns one ``<svg>`` element as text, sized in CSS pixels.

Size: points are decimated before they are written (lines to ``max_points`` by taking
evenly spaced samples, point clouds likewise), coordinates are written with one decimal,
and a point cloud is one ``<path>`` of zero-length segments with round caps
(``M x y h0``), about 14 bytes a point. Every text that reaches the SVG (titles, labels,
legend) is escaped with :func:`html.escape`. Non-finite values are skipped (a NaN in a
line breaks it).
"""

from __future__ import annotations

import html
import math
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

__all__ = ["Series", "histogram", "map_chart", "nice_ticks", "xy_chart"]

F64 = NDArray[np.float64]

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#7f7f7f")
"""Series colours, in order."""

_MARGIN = (56, 16, 28, 44)          # left, right, top, bottom (px)


@dataclass(frozen=True, slots=True)
class Series:
    """One data series: ``kind`` is ``"line"`` or ``"points"``."""

    x: F64
    y: F64
    label: str
    colour: str = PALETTE[0]
    kind: str = "line"
    width_px: float = 1.5


def nice_ticks(lo: float, hi: float, n: int = 6) -> list[float]:
    """About ``n`` round tick values (1, 2, 5 × 10^k steps) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return [0.0]
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / max(n, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    return [first + i * step for i in range(int((hi - first) / step + 1e-9) + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e5 or a < 1e-3:
        return f"{v:.2g}"
    if a >= 100:
        return f"{v:.0f}"
    return f"{v:.3g}"


def _decimate(x: F64, y: F64, max_points: int) -> tuple[F64, F64]:
    if len(x) <= max_points:
        return x, y
    idx = np.linspace(0, len(x) - 1, max_points).astype(np.int64)
    return x[idx], y[idx]


def _coords(px: F64, py: F64) -> list[str]:
    return [f"{a:.1f} {b:.1f}" for a, b in zip(px.tolist(), py.tolist(), strict=True)]


def _line_path(px: F64, py: F64) -> str:
    """``M .. L ..`` path; non-finite points break the line."""
    ok = np.isfinite(px) & np.isfinite(py)
    parts: list[str] = []
    edge = np.diff(np.concatenate(([0], ok.astype(np.int8), [0])))
    for s, e in zip(np.flatnonzero(edge == 1).tolist(), np.flatnonzero(edge == -1).tolist(),
                    strict=True):
        c = _coords(px[s:e], py[s:e])
        parts.append("M" + c[0] + ("L" + "L".join(c[1:]) if len(c) > 1 else "h0"))
    return "".join(parts)


def _points_path(px: F64, py: F64) -> str:
    ok = np.isfinite(px) & np.isfinite(py)
    return "".join(f"M{c}h0" for c in _coords(px[ok], py[ok]))


class _Frame:
    """Data → pixel transform of one chart, with its axes drawn as SVG text."""

    def __init__(self, width: int, height: int, xr: tuple[float, float],
                 yr: tuple[float, float]) -> None:
        self.w, self.h = width, height
        l, r, t, b = _MARGIN
        self.x0, self.x1, self.y0, self.y1 = l, width - r, height - b, t
        self.xr = xr if xr[1] > xr[0] else (xr[0] - 0.5, xr[0] + 0.5)
        self.yr = yr if yr[1] > yr[0] else (yr[0] - 0.5, yr[0] + 0.5)

    def px(self, x: F64) -> F64:
        """x data → pixels."""
        return self.x0 + (np.asarray(x, float) - self.xr[0]) / (self.xr[1] - self.xr[0]) * \
            (self.x1 - self.x0)

    def py(self, y: F64) -> F64:
        """y data → pixels (up is up)."""
        return self.y0 - (np.asarray(y, float) - self.yr[0]) / (self.yr[1] - self.yr[0]) * \
            (self.y0 - self.y1)

    def axes(self, title: str, x_label: str, y_label: str, *, x_ticks: bool = True) -> str:
        """Frame, grid, ticks and labels."""
        e = html.escape
        out = [f'<rect x="{self.x0}" y="{self.y1}" width="{self.x1 - self.x0}" '
               f'height="{self.y0 - self.y1}" fill="#fff" stroke="#999"/>']
        for v in nice_ticks(*self.yr):
            y = float(self.py(np.array(v)))
            out.append(f'<line x1="{self.x0}" x2="{self.x1}" y1="{y:.1f}" y2="{y:.1f}" '
                       f'stroke="#eee"/><text x="{self.x0 - 4}" y="{y + 4:.1f}" '
                       f'text-anchor="end">{e(_fmt(v))}</text>')
        if x_ticks:
            for v in nice_ticks(*self.xr):
                x = float(self.px(np.array(v)))
                out.append(f'<line y1="{self.y0}" y2="{self.y1}" x1="{x:.1f}" x2="{x:.1f}" '
                           f'stroke="#eee"/><text x="{x:.1f}" y="{self.y0 + 14}" '
                           f'text-anchor="middle">{e(_fmt(v))}</text>')
        out.append(f'<text x="{(self.x0 + self.x1) / 2:.0f}" y="{self.h - 6}" '
                   f'text-anchor="middle">{e(x_label)}</text>')
        out.append(f'<text x="12" y="{(self.y0 + self.y1) / 2:.0f}" text-anchor="middle" '
                   f'transform="rotate(-90 12 {(self.y0 + self.y1) / 2:.0f})">'
                   f'{e(y_label)}</text>')
        out.append(f'<text x="{self.x0}" y="{self.y1 - 8}" font-weight="bold">'
                   f'{e(title)}</text>')
        return "".join(out)


def _svg(width: int, height: int, body: str, aria: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11" '
            f'role="img" aria-label="{html.escape(aria)}">{body}</svg>')


def _legend(items: Sequence[tuple[str, str]], x: float, y: float) -> str:
    out = []
    for i, (label, colour) in enumerate(items):
        yy = y + 14 * i
        out.append(f'<rect x="{x:.0f}" y="{yy - 8:.0f}" width="10" height="10" '
                   f'fill="{html.escape(colour)}"/><text x="{x + 14:.0f}" y="{yy + 1:.0f}">'
                   f'{html.escape(label)}</text>')
    return "".join(out)


def _range(values: list[F64], pad: float = 0.0, zero: bool = False) -> tuple[float, float]:
    v = np.concatenate([a[np.isfinite(a)] for a in values]) if values else np.empty(0)
    if len(v) == 0:
        return (0.0, 1.0)
    lo, hi = float(v.min()), float(v.max())
    if zero:
        lo = min(lo, 0.0)
    span = hi - lo
    return lo - pad * span, hi + pad * span


def xy_chart(series: Sequence[Series], *, title: str, x_label: str, y_label: str,
             width: int = 760, height: int = 260, max_points: int = 4000,
             y_max: float | None = None) -> str:
    """Lines and point clouds on linear axes (y from 0 when all values are ≥ 0)."""
    dec = [(s, *_decimate(np.asarray(s.x, float), np.asarray(s.y, float), max_points))
           for s in series]
    xr = _range([x for _s, x, _y in dec])
    ys = [y for _s, _x, y in dec]
    yr = _range(ys, 0.05, zero=True)
    if y_max is not None and math.isfinite(y_max) and y_max > yr[0]:
        yr = (yr[0], min(yr[1], y_max))
    f = _Frame(width, height, xr, yr)
    body = [f.axes(title, x_label, y_label)]
    clip = f"clip{zlib.crc32(title.encode()):08x}"
    body.append(f'<clipPath id="{clip}"><rect x="{f.x0}" y="{f.y1}" width="{f.x1 - f.x0}" '
                f'height="{f.y0 - f.y1}"/></clipPath><g clip-path="url(#{clip})">')
    for s, x, y in dec:
        px, py = f.px(x), f.py(y)
        col = html.escape(s.colour)
        if s.kind == "points":
            body.append(f'<path d="{_points_path(px, py)}" stroke="{col}" stroke-width="2.5" '
                        f'stroke-linecap="round" stroke-opacity="0.5" fill="none"/>')
        else:
            body.append(f'<path d="{_line_path(px, py)}" stroke="{col}" '
                        f'stroke-width="{s.width_px}" fill="none"/>')
    body.append("</g>")
    body.append(_legend([(s.label, s.colour) for s in series], f.x1 - 150, f.y1 + 14))
    return _svg(width, height, "".join(body), title)


def histogram(values: F64, *, title: str, x_label: str, bins: int = 40,
              width: int = 760, height: int = 240, clip_quantile: float = 0.995) -> str:
    """Histogram of the finite ``values`` (range clipped at ``clip_quantile``)."""
    v = np.asarray(values, float)
    v = v[np.isfinite(v)]
    hi = float(np.quantile(v, clip_quantile)) if len(v) else 1.0
    lo = min(0.0, float(v.min())) if len(v) else 0.0
    if hi <= lo:
        hi = lo + 1.0
    counts, edges = np.histogram(np.clip(v, lo, hi), bins=bins, range=(lo, hi))
    f = _Frame(width, height, (lo, hi), (0.0, float(max(counts.max(initial=0), 1)) * 1.05))
    body = [f.axes(title, x_label, "updates")]
    x0, x1 = f.px(edges[:-1]), f.px(edges[1:])
    ytop = f.py(counts.astype(float))
    for a, b, yt in zip(x0.tolist(), x1.tolist(), ytop.tolist(), strict=True):
        body.append(f'<rect x="{a:.1f}" y="{yt:.1f}" width="{max(b - a - 1, 0.5):.1f}" '
                    f'height="{f.y0 - yt:.1f}" fill="{PALETTE[0]}"/>')
    return _svg(width, height, "".join(body), title)


def map_chart(lines: Sequence[tuple[F64, F64]], points: Sequence[tuple[F64, F64, str, str]],
              *, title: str, width: int = 760, height: int = 560,
              max_line_points: int = 300, max_total_line_points: int = 60000,
              max_points: int = 20000) -> str:
    """Truth polylines ``(lat, lon)`` (grey) under point clouds ``(lat, lon, label, colour)``.

    Equirectangular about the middle latitude, equal scale on both axes. Each line keeps at
    most ``max_line_points`` and all lines together about ``max_total_line_points``
    (≥ 8 per line); the point clouds share ``max_points``.
    """
    lats = [la for la, _lo in lines] + [p[0] for p in points]
    lons = [lo for _la, lo in lines] + [p[1] for p in points]
    la_r, lo_r = _range(lats, 0.02), _range(lons, 0.02)
    k = math.cos(math.radians(0.5 * (la_r[0] + la_r[1])))
    xr = (lo_r[0] * k, lo_r[1] * k)
    l, r, t, b = _MARGIN
    aw, ah = width - l - r, height - t - b
    span_x, span_y = max(xr[1] - xr[0], 1e-9), max(la_r[1] - la_r[0], 1e-9)
    if span_x / aw > span_y / ah:                    # equal scale: widen the narrow axis
        mid, half = 0.5 * (la_r[0] + la_r[1]), 0.5 * span_x / aw * ah
        la_r = (mid - half, mid + half)
    else:
        mid, half = 0.5 * (xr[0] + xr[1]), 0.5 * span_y / ah * aw
        xr = (mid - half, mid + half)
    f = _Frame(width, height, xr, la_r)
    body = [f.axes(title, "longitude (deg)", "latitude (deg)", x_ticks=False)]
    for v in nice_ticks(xr[0] / k, xr[1] / k):           # longitude ticks at x = lon·k
        x = float(f.px(np.array(v * k)))
        body.append(f'<line y1="{f.y0}" y2="{f.y1}" x1="{x:.1f}" x2="{x:.1f}" stroke="#eee"/>'
                    f'<text x="{x:.1f}" y="{f.y0 + 14}" text-anchor="middle">'
                    f'{html.escape(_fmt(v))}</text>')
    paths = []
    per_line = max(8, min(max_line_points, max_total_line_points // max(len(lines), 1)))
    for la, lo in lines:
        la_d, lo_d = _decimate(np.asarray(la, float), np.asarray(lo, float), per_line)
        paths.append(_line_path(f.px(lo_d * k), f.py(la_d)))
    body.append(f'<path d="{"".join(paths)}" stroke="#888" stroke-width="1" fill="none"/>')
    legend = [("truth", "#888")]
    per = max(1, max_points // max(len(points), 1))
    for la, lo, label, colour in points:
        la_d, lo_d = _decimate(np.asarray(la, float), np.asarray(lo, float), per)
        body.append(f'<path d="{_points_path(f.px(lo_d * k), f.py(la_d))}" '
                    f'stroke="{html.escape(colour)}" stroke-width="2" stroke-linecap="round" '
                    f'stroke-opacity="0.6" fill="none"/>')
        legend.append((label, colour))
    body.append(_legend(legend, f.x0 + 8, f.y1 + 14))
    return _svg(width, height, "".join(body), title)
