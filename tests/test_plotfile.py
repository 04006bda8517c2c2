"""Plot-file reading and TRACKS writing (skyfuse.ingest.plotfile), in process."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfuse.ingest import plotfile
from skyfuse.ingest.plotfile import (
    PlotFileError,
    TrackRows,
    read_plots,
    write_tracks,
)

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")


def _write(tmp_path: Path, text: str | bytes, name: str = "plots.csv") -> Path:
    p = tmp_path / name
    if isinstance(text, str):
        p.write_text(text, encoding="utf-8", newline="")
    else:
        p.write_bytes(text)
    return p


# -- good files ----------------------------------------------------------------------------
def test_reads_required_columns_in_file_order(tmp_path: Path) -> None:
    p = _write(tmp_path, "t_s,x_m,y_m\n2,10.5,-3\n1,1e3,7.25\n2,0,0\n")
    t = read_plots(p)
    assert len(t) == 3
    np.testing.assert_array_equal(t.t_s, [2, 1, 2])
    np.testing.assert_array_equal(t.x_m, [10.5, 1000.0, 0.0])
    np.testing.assert_array_equal(t.y_m, [-3.0, 7.25, 0.0])
    assert t.sensor is None and t.sigma_m is None


def test_optional_columns_any_order_and_extra_columns_ignored(tmp_path: Path) -> None:
    p = _write(tmp_path, "note,sigma_m,y_m,sensor,x_m,t_s\nhello,5,2,7,1,0\nbye,2.5,4,3,3,1\n")
    t = read_plots(p)
    np.testing.assert_array_equal(t.x_m, [1, 3])
    np.testing.assert_array_equal(t.y_m, [2, 4])
    np.testing.assert_array_equal(t.sigma_m, [5, 2.5])
    assert t.sensor is not None and t.sensor.dtype == np.int32
    np.testing.assert_array_equal(t.sensor, [7, 3])
    assert t.sensor_names == ()


def test_text_sensor_names_map_to_sorted_ids(tmp_path: Path) -> None:
    p = _write(tmp_path, "t_s,x_m,y_m,sensor\n0,1,1,radar-b\n0,2,2,radar-a\n1,3,3,radar-b\n")
    t = read_plots(p)
    assert t.sensor_names == ("radar-a", "radar-b")
    np.testing.assert_array_equal(t.sensor, [1, 0, 1])


def test_crlf_blank_lines_and_quotes_are_read(tmp_path: Path) -> None:
    p = _write(tmp_path, 't_s,x_m,y_m,note\r\n0,1,2,"a, b"\r\n\r\n   \r\n1,"3",4,x\r\n')
    t = read_plots(p)
    np.testing.assert_array_equal(t.t_s, [0, 1])
    np.testing.assert_array_equal(t.x_m, [1, 3])


def test_header_only_gives_empty_columns(tmp_path: Path) -> None:
    t = read_plots(_write(tmp_path, "t_s,x_m,y_m,sigma_m\n"))
    assert len(t) == 0 and t.sigma_m is not None and len(t.sigma_m) == 0
    assert len(read_plots(_write(tmp_path, "t_s,x_m,y_m", "nonl.csv"))) == 0


def test_fast_and_careful_paths_agree(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    a = rng.normal(0, 1e5, (500, 3)).round(3)
    body = "".join(f"{t!r},{x!r},{y!r},s{int(abs(x)) % 3}\n" for t, x, y in a.tolist())
    data = ("t_s,x_m,y_m,sensor\n" + body).encode()
    fast = plotfile._read_csv_fast("f", ["t_s", "x_m", "y_m", "sensor"], body.encode())
    careful = plotfile._read_csv_careful("f", ["t_s", "x_m", "y_m", "sensor"], body.encode())
    assert fast is not None
    for name in ("t_s", "x_m", "y_m", "sensor"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(careful, name))
    assert fast.sensor_names == careful.sensor_names == ("s0", "s1", "s2")
    np.testing.assert_array_equal(read_plots(_write(tmp_path, data)).x_m, a[:, 1])


# -- bad files: each error names the file, the line and what is wrong -----------------------
BAD_CSV = [
    ("t_s,x_m,y_m\n0,1,2\n1,2,abc\n", r"plots\.csv: line 3: column y_m: 'abc' is not a number"),
    ("t_s,x_m\n0,1\n", r"plots\.csv: missing column 'y_m' \(header has: t_s,x_m\)"),
    ("t_s;x_m;y_m\n0;1;2\n", r"missing column 't_s'.*separated by commas"),
    ("t_s,x_m,y_m\n0,1,2\n1,2\n",
     r"plots\.csv: line 3: expected 3 fields \(t_s,x_m,y_m\), found 2"),
    ("t_s,x_m,y_m\n0,1,2,9\n", r"plots\.csv: line 2: expected 3 fields .*found 4"),
    ("", r"plots\.csv: empty file: expected a header line naming the columns t_s,x_m,y_m"),
    ("\n\n", r"plots\.csv: empty file"),
    ("\nt_s,x_m,y_m\n", r"plots\.csv: line 1 is blank"),
    ("t_s,x_m,y_m\n0,1,2\n\n1,nan,2\n", r"plots\.csv: line 4: column x_m: 'nan' is not a finite"),
    ("t_s,x_m,y_m\n0,1,inf\n", r"plots\.csv: line 2: column y_m: 'inf' is not a finite number"),
    ("t_s,x_m,y_m\n0,1,\n", r"plots\.csv: line 2: column y_m: is empty"),
    ("t_s,x_m,y_m,sigma_m\n0,1,2,0\n", r"plots\.csv: line 2: column sigma_m: 0 must be > 0"),
    ("t_s,x_m,y_m,sigma_m\n0,1,2,x\n", r"line 2: column sigma_m: 'x' is not a number"),
    ("t_s,x_m,x_m,y_m\n0,1,2,3\n", r"plots\.csv: line 1: column 'x_m' appears twice"),
    # the FIRST bad line is reported, not a later one
    ("t_s,x_m,y_m\n0,1,2\n0,1,2\n0,q,2\n0,1\n0,z,z\n", r"line 4: column x_m: 'q' is not"),
    ("t_s,x_m,y_m\n0,1,2\n\"0,1,2\n", r"plots\.csv: line 3: "),
]


@pytest.mark.parametrize(("text", "message"), BAD_CSV)
def test_bad_csv_errors(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(PlotFileError, match=message):
        read_plots(_write(tmp_path, text))


def test_line_numbers_count_blank_lines_and_crlf(tmp_path: Path) -> None:
    p = _write(tmp_path, "t_s,x_m,y_m\r\n\r\n0,1,2\r\n\r\n0,1,x\r\n")
    with pytest.raises(PlotFileError, match=r"line 5: column y_m: 'x'"):
        read_plots(p)


def test_not_utf8(tmp_path: Path) -> None:
    with pytest.raises(PlotFileError, match=r"plots\.csv: line 3: not UTF-8"):
        read_plots(_write(tmp_path, b"t_s,x_m,y_m\n0,1,2\n0,1,\xff\n"))


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(PlotFileError, match=r"nope\.csv: no such file"):
        read_plots(tmp_path / "nope.csv")
    with pytest.raises(PlotFileError, match="is a directory"):
        read_plots(tmp_path)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=200))
def test_parser_never_crashes(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    p = tmp_path_factory.mktemp("fuzz") / "plots.csv"
    p.write_bytes(b"t_s,x_m,y_m\n" + data)
    try:
        t = read_plots(p)
    except PlotFileError as e:
        assert str(e).startswith(f"{p}: ")
    else:
        assert len(t.t_s) == len(t.x_m) == len(t.y_m)
        assert np.isfinite(t.t_s).all() and np.isfinite(t.x_m).all()


# -- Parquet -------------------------------------------------------------------------------
def test_parquet_plots(tmp_path: Path) -> None:
    p = tmp_path / "plots.parquet"
    pq.write_table(pa.table({"t_s": [0.0, 1.0], "x_m": [1, 2], "y_m": [3.5, 4.5],
                             "sensor": ["b", "a"], "other": ["x", "y"]}), p)
    t = read_plots(p)
    np.testing.assert_array_equal(t.x_m, [1.0, 2.0])
    np.testing.assert_array_equal(t.sensor, [1, 0])
    assert t.sensor_names == ("a", "b")


@pytest.mark.parametrize(("columns", "message"), [
    ({"t_s": [0.0], "x_m": [1.0]}, r"plots\.parquet: missing column 'y_m'"),
    ({"t_s": [0.0, 1.0], "x_m": [1.0, None], "y_m": [1.0, 2.0]},
     r"plots\.parquet: row 2: column x_m: missing value"),
    ({"t_s": [0.0], "x_m": ["a"], "y_m": [1.0]}, r"column x_m has type string"),
    ({"t_s": [0.0, 1.0, 2.0], "x_m": [1.0, 2.0, float("nan")], "y_m": [1.0, 2.0, 3.0]},
     r"row 3: column x_m: nan is not a finite number"),
])
def test_bad_parquet(tmp_path: Path, columns: dict[str, list[object]], message: str) -> None:
    p = tmp_path / "plots.parquet"
    pq.write_table(pa.table(columns), p)
    with pytest.raises(PlotFileError, match=message):
        read_plots(p)


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "plots.parquet"
    pq.write_table(pa.table({"t_s": [0.0], "x_m": [1.0], "y_m": [1.0]}), p)
    for mod in [m for m in sys.modules if m == "pyarrow" or m.startswith("pyarrow.")]:
        monkeypatch.setitem(sys.modules, mod, None)
    with pytest.raises(PlotFileError, match=r"Parquet needs pyarrow"):
        read_plots(p)
    with pytest.raises(PlotFileError, match=r"Parquet needs pyarrow"):
        write_tracks(tmp_path / "out.parquet", TrackRows.empty())


# -- writing -------------------------------------------------------------------------------
def _rows() -> TrackRows:
    return TrackRows(np.array([0.0, 1.0, 1.0]), np.array([7, 7, 12], np.int64),
                     np.array([1.23456, -0.0004, 1e6]), np.array([2.0, 3.0005, -4.5]),
                     np.array([100.0, 99.9999, 0.0]), np.array([-1.0, 0.1234, 5.0]))


def test_write_csv_format(tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    write_tracks(out, _rows())
    lines = out.read_text().splitlines()
    assert lines[0] == "t_s,track_id,x_m,y_m,vx_mps,vy_mps"
    assert lines[1] == "0.000,7,1.235,2.000,100.000,-1.000"
    assert lines[3] == "1.000,12,1000000.000,-4.500,0.000,5.000"
    with out.open() as f:
        back = list(csv.DictReader(f))
    assert [int(r["track_id"]) for r in back] == [7, 7, 12]


def test_write_empty_csv_is_header_only(tmp_path: Path) -> None:
    out = tmp_path / "tracks.csv"
    write_tracks(out, TrackRows.empty())
    assert out.read_text() == "t_s,track_id,x_m,y_m,vx_mps,vy_mps\n"


def test_write_csv_large_is_chunked_correctly(tmp_path: Path) -> None:
    n = 150_000                                  # more than one write chunk
    rows = TrackRows(np.arange(n) / 8, np.arange(n, dtype=np.int64), *(np.full(n, 0.5),) * 4)
    out = tmp_path / "tracks.csv"
    write_tracks(out, rows)
    back = np.loadtxt(out, delimiter=",", skiprows=1)
    assert back.shape == (n, 6)
    np.testing.assert_array_equal(back[:, 1], np.arange(n))
    np.testing.assert_allclose(back[:, 0], np.round(np.arange(n) / 8, 3))


def test_write_parquet_round_trip(tmp_path: Path) -> None:
    out = tmp_path / "tracks.parquet"
    write_tracks(out, _rows())
    t = pq.read_table(out)
    assert t.column_names == list(plotfile.TRACK_COLUMNS)
    assert t.column("track_id").to_pylist() == [7, 7, 12]
    np.testing.assert_array_equal(t.column("x_m").to_numpy(), _rows().x_m)


def test_clean_file_never_takes_the_slow_path(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(*_: object) -> None:
        raise AssertionError("careful pass used for a clean file")

    monkeypatch.setattr(plotfile, "_read_csv_careful", slow)
    p = _write(tmp_path, "t_s,x_m,y_m,sensor,sigma_m,x\n0,1.5,-2,3,10,q\n1,2,3e2,radar,5,r\n")
    t = read_plots(p)
    np.testing.assert_array_equal(t.y_m, [-2.0, 300.0])
    assert t.sensor_names == ("3", "radar")


def _not_a_tie(x: float, d: int) -> bool:
    """False where ``%.{d}f`` and rounding the scaled value may legitimately differ."""
    s = x * 10.0**d
    return abs(abs(s - np.trunc(s)) - 0.5) > 1e-6 and abs(s) >= 0.5


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e9, 1e9, allow_nan=False),
                          st.integers(-2**40, 2**40),
                          st.floats(-1e11, 1e11, allow_nan=False)), min_size=1, max_size=40),
       st.integers(1, 4))
def test_format_csv_rows_matches_percent_format(rows: list[tuple[float, int, float]],
                                                d: int) -> None:
    a = np.array([r[0] for r in rows])
    i = np.array([r[1] for r in rows], np.int64)
    b = np.array([r[2] for r in rows])
    got = plotfile.format_csv_rows([a, i, b], (d, 0, 3)).decode().split("\n")
    assert got[-1] == "" and len(got) == len(rows) + 1
    for (x, n, y), line in zip(rows, got, strict=False):
        fx, fn, fy = line.split(",")
        assert fn == str(n)
        if _not_a_tie(x, d):
            assert fx == f"%.{d}f" % x
        else:
            assert abs(float(fx) - x) <= 10.0**-d
        if _not_a_tie(y, 3):
            assert fy == f"{y:.3f}"


def test_format_csv_rows_edge_values() -> None:
    v = np.array([0.0, -0.0, -0.0004, 0.5, -1.5, 9.9996, -12345.678, 1e-9, 8.9e11])
    got = plotfile.format_csv_rows([v], (3,)).decode().split("\n")[:-1]
    assert got == ["0.000", "0.000", "0.000", "0.500", "-1.500", "10.000", "-12345.678",
                   "0.000", "890000000000.000"]
    big = np.array([1.0, 1e20, -2.5])                # beyond the integer path: fallback
    assert plotfile.format_csv_rows([big], (3,)) == f"1.000\n{1e20:.3f}\n-2.500\n".encode()
    ids = np.array([0, 7, 123456789012], np.int64)
    assert plotfile.format_csv_rows([ids], (0,)) == b"0\n7\n123456789012\n"
    assert plotfile.format_csv_rows([np.empty(0)], (3,)) == b""
