"""The report's SVG charts: ticks, escaping, decimation (the file stays small)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import numpy as np
import pytest

from skyfuse.eval.svg import Series, histogram, map_chart, nice_ticks, xy_chart


@pytest.mark.parametrize(("lo", "hi", "first", "step"), [
    (0.0, 1.0, 0.0, 0.2), (3.0, 97.0, 20.0, 20.0), (-0.013, 0.041, -0.01, 0.01),
    (1633608001.0, 1633611601.0, 1633609000.0, 1000.0)])
def test_nice_ticks_are_round_and_cover_the_range(lo: float, hi: float, first: float,
                                                  step: float) -> None:
    t = nice_ticks(lo, hi)
    assert t[0] == pytest.approx(first, abs=1e-9) and t[1] - t[0] == pytest.approx(step)
    assert lo - 1e-9 <= t[0] and t[-1] <= hi + 1e-9 and 3 <= len(t) <= 11


def test_charts_are_well_formed_escaped_and_bounded() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    x, y = np.arange(n, dtype=float), rng.normal(size=n)
    y[10] = np.nan
    svgs = [
        xy_chart([Series(x, y, "<err> & co", kind="points"), Series(x, np.abs(y), "rms")],
                 title='t "1" <2>', x_label="x & y", y_label="<m>"),
        histogram(np.abs(y), title="<h>", x_label="m"),
        map_chart([(48 + rng.normal(size=5000) * 0.1, 2 + rng.normal(size=5000) * 0.1)] * 200,
                  [(48 + y * 0.1, 2 + y * 0.1, "<pts>", "#123456")], title="<map>"),
    ]
    for svg in svgs:
        root = ET.fromstring(svg)                        # well-formed XML
        assert root.tag == "{http://www.w3.org/2000/svg}svg"
        assert "<err>" not in svg and "<pts>" not in svg and "<map>" not in svg.replace(
            "&lt;map&gt;", "")
        assert len(svg) < 1_500_000
    texts = [t.text for t in ET.fromstring(svgs[0]).iter("{http://www.w3.org/2000/svg}text")]
    assert 't "1" <2>' in texts and "<err> & co" in texts      # round-trips unescaped


def test_empty_inputs_still_draw() -> None:
    e = np.empty(0)
    for svg in (xy_chart([Series(e, e, "none")], title="t", x_label="x", y_label="y"),
                histogram(e, title="h", x_label="m"), map_chart([], [], title="m")):
        ET.fromstring(svg)
