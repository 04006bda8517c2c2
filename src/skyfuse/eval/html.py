"""The self-contained HTML report ``index.html`` (no script, no network, inline SVG).

Sections: the pass/fail table (value, threshold, pass), the headline figures, the charts
(horizontal error over time, error histogram, map of tracks over truth, GOSPA over time)
and the worst truth objects by RMS (all of them are in ``per_target.csv``). Every string
from the inputs or the summary goes through :func:`html.escape`. Charts are decimated by
:mod:`skyfuse.eval.svg` so that the file stays well under 5 MB at any input size.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from skyfuse.eval.svg import PALETTE, Series, histogram, map_chart, xy_chart

if TYPE_CHECKING:
    from skyfuse.eval.evaluate import Evaluation

__all__ = ["render_html", "write_html"]

_CSS = """body{font-family:sans-serif;margin:1.5em;max-width:62em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;
padding:.25em .6em;text-align:left}th{background:#f3f3f3}.pass{background:#d9f2d9}
.fail{background:#f7d4d4}td.n{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1em 0}"""

_HEADLINE = (
    ("position_rms_m", "horizontal position RMS", "m"),
    ("along_track_rms_m", "along-track RMS", "m"),
    ("across_track_rms_m", "across-track RMS", "m"),
    ("along_track_mean_m", "along-track mean (negative: track lags)", "m"),
    ("position_rms_m_identified", "position RMS, truth objects with an icao24", "m"),
    ("position_rms_m_adsb", "position RMS, ADS-B-equipped aircraft", "m"),
    ("position_rms_m_non_adsb", "position RMS, aircraft without ADS-B", "m"),
    ("velocity_rms_mps", "velocity error RMS", "m/s"),
    ("heading_rms_deg", "heading error RMS", "deg"),
    ("latency_s", "latency (along-track lag / speed, median)", "s"),
    ("update_probability", "probability of update", ""),
    ("track_breaks", "track breaks", ""),
    ("track_number_changes", "track number changes", ""),
    ("gaps_bridged", "coverage gaps bridged by the same track", ""),
    ("identity_swaps", "identity swaps (a swapped pair counts one)", ""),
    ("track_switches", "track switches between truth objects", ""),
    ("false_tracks", "false tracks", ""),
    ("duplicate_tracks", "duplicate tracks", ""),
    ("confirmation_delay_s", "confirmation delay (median)", "s"),
    ("time_to_track_s", "time from first truth sample to confirmed track (median)", "s"),
    ("gospa_mean", "GOSPA mean (c 1000 m, alpha 2, p 1)", "m"),
    ("gospa_localisation_mean", "GOSPA localisation part, mean", "m"),
    ("gospa_missed_mean", "GOSPA missed part, mean", "m"),
    ("gospa_false_mean", "GOSPA false part, mean", "m"),
    ("gospa_per_truth_mean", "GOSPA per truth object (Σ GOSPA / Σ objects alive)", "m"),
    ("period_s", "nominal period", "s"),
)


def _v(v: Any) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if not math.isfinite(v):
            return "n/a"
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:.0f}"
    return str(v)


def _table(head: list[str], rows: list[list[tuple[str, str]]]) -> str:
    e = html.escape
    out = ["<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in head) + "</tr>"]
    for r in rows:
        out.append("<tr>" + "".join(f'<td class="{e(cls)}">{e(text)}</td>' if cls
                                    else f"<td>{e(text)}</td>" for text, cls in r) + "</tr>")
    out.append("</table>")
    return "".join(out)


def _charts(ev: Evaluation) -> list[tuple[str, str]]:
    tr, a = ev.tracks, ev.association
    m = a.associated & (tr.status == 1)
    t = tr.t_s[m]
    err = np.hypot(a.err_east_m[m], a.err_north_m[m])
    t_ref = float(ev.truth.t_s.min()) if len(ev.truth) else 0.0
    charts = []
    series = [Series(t - t_ref, err, "update error", PALETTE[0], "points")]
    if len(t):
        span = float(t.max() - t.min())
        width = max(ev.summary["period_s"], span / 300.0, 1e-6)
        b = np.floor((t - t.min()) / width).astype(np.int64)
        cnt = np.bincount(b)
        rms = np.sqrt(np.bincount(b, err * err) / np.maximum(cnt, 1))
        centres = t.min() + (np.arange(len(cnt)) + 0.5) * width - t_ref
        series.append(Series(centres, np.where(cnt > 0, rms, np.nan), "RMS per bin",
                             PALETTE[1], "line", 2.0))
    y_max = float(np.quantile(err, 0.999)) * 1.1 if len(err) else None
    charts.append(("Horizontal error over time", xy_chart(
        series, title="horizontal position error of associated updates",
        x_label=f"time since first truth sample (s; t0 = {t_ref:.0f})", y_label="error (m)",
        y_max=y_max)))
    charts.append(("Error histogram", histogram(
        err, title="horizontal position error", x_label="error (m)")))
    truth = ev.truth
    lines = [(truth.lat_deg[truth.starts[j]:truth.starts[j + 1]],
              truth.lon_deg[truth.starts[j]:truth.starts[j + 1]])
             for j in range(truth.n_objects)]
    pic = (tr.status == 1) | (tr.status == 2)
    ok = pic & a.associated
    bad = pic & ~a.associated
    charts.append(("Map: tracks over truth", map_chart(
        lines, [(tr.lat_deg[ok], tr.lon_deg[ok], "associated track updates", PALETTE[0]),
                (tr.lat_deg[bad], tr.lon_deg[bad], "unassociated track updates", PALETTE[1])],
        title="tracks over truth (equirectangular)")))
    g = ev.gospa
    gt = g.t_s - t_ref
    g_max = float(np.quantile(g.gospa_m, 0.99)) * 1.2 if len(g.gospa_m) else None
    charts.append(("GOSPA over time", xy_chart(
        [Series(gt, g.gospa_m, "GOSPA", PALETTE[0], "line", 2.0),
         Series(gt, g.localisation_m, "localisation", PALETTE[2]),
         Series(gt, g.missed_m, "missed", PALETTE[3]),
         Series(gt, g.false_m, "false", PALETTE[1])],
        title="GOSPA (c = 1000 m, alpha = 2, p = 1) per step",
        x_label="time since first truth sample (s)", y_label="GOSPA (m)", y_max=g_max)))
    return charts


def render_html(ev: Evaluation) -> str:
    """The report as one HTML document."""
    e = html.escape
    s = ev.summary
    rows = []
    for th, value, ok in ev.thresholds:
        rows.append([(th.name, ""), (th.metric, ""), (_v(value), "n"),
                     (f"{th.op} {th.limit:g}", ""), ("pass" if ok else "FAIL",
                                                      "pass" if ok else "fail"),
                     (th.source, "")])
    parts = [f"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
             f"<title>skyfuse evaluation</title><style>{_CSS}</style></head><body>",
             "<h1>skyfuse evaluation</h1>"]
    inputs = s.get("inputs", {})
    if inputs:
        parts.append("<p>" + "<br>".join(f"{e(k)}: <code>{e(str(v))}</code>"
                                          for k, v in inputs.items()) + "</p>")
    c = s["counts"]
    parts.append(f"<p>{e(str(c['track_rows']))} track rows ({e(str(c['confirmed_tracks']))} "
                 f"confirmed tracks), {e(str(c['truth_rows']))} truth rows "
                 f"({e(str(c['truth_objects']))} objects, {e(str(c['truth_objects_tracked']))}"
                 f" tracked). Nominal period {e(_v(s['period_s']))} s "
                 f"({e(s['period_source'])}).</p>")
    if s.get("notes"):
        parts.append("<ul>" + "".join(f"<li><strong>Note:</strong> {e(n)}</li>"
                                      for n in s["notes"]) + "</ul>")
    parts.append("<h2>Pass / fail</h2>")
    parts.append(_table(["test", "metric", "value", "threshold", "result", "source"], rows))
    parts.append("<h2>Figures</h2>")
    parts.append(_table(["figure", "value", "unit", "key"],
                        [[(label, ""), (_v(s.get(key)), "n"), (unit, ""), (key, "")]
                         for key, label, unit in _HEADLINE if key in s]))
    for heading, svg in _charts(ev):
        parts.append(f"<h2>{e(heading)}</h2><figure>{svg}</figure>")
    pt = ev.per_target
    order = np.argsort(-np.nan_to_num(pt["position_rms_m"], nan=-1.0), kind="stable")[:50]
    cols = ["position_rms_m", "n_updates", "update_probability", "n_tracks",
            "track_breaks", "track_number_changes"]
    prow = []
    for j in order.tolist():
        icao = int(ev.truth.obj_icao24[j])
        prow.append([(str(ev.truth.labels[j]), ""), (f"{icao:06x}" if icao >= 0 else "", "")]
                    + [(_v(pt[k][j].item()), "n") for k in cols])
    parts.append("<h2>Truth objects with the largest RMS</h2>"
                 "<p>The first 50; every object is in <code>per_target.csv</code>.</p>")
    parts.append(_table(["truth_id", "icao24", *cols], prow))
    parts.append("</body></html>\n")
    return "".join(parts)


def write_html(path: Path, ev: Evaluation) -> None:
    """Write :func:`render_html` to ``path``."""
    path.write_text(render_html(ev), encoding="utf-8")
