"""Reading the two inputs of ``skyfuse evaluate``: the TRACKS CSV and the truth CSV.

Both are read column-wise into numpy arrays (CONTRACTS.md):

* TRACKS (``skyfuse replay``/``run``): ``t_s,track_id,status,lat_deg,lon_deg,alt_ft,icao24,
  callsign`` and the extras ``vx_mps,vy_mps``. Required here: ``t_s, track_id, lat_deg,
  lon_deg``; ``status`` (absent: every row confirmed), ``icao24`` and ``vx_mps, vy_mps``
  (absent or empty: unknown) are used when present; other columns are ignored.
* truth (``skyfuse simulate``): ``t_s,truth_id,icao24,lat_deg,lon_deg,alt_ft,vx_mps,vy_mps``
  (velocity east/north). Required: ``t_s, truth_id, lat_deg, lon_deg, vx_mps, vy_mps``;
  ``icao24`` when present; an extra ``adsb`` column (0/1: the aircraft is ADS-B equipped)
  is read when present, for the ADS-B / non-ADS-B split of the position RMS.

How: the text is split into records once with the ``csv`` module, the records transposed
into one tuple of strings per column, and each column converted by numpy in one call
(``astype(float64)``). Only when a conversion fails is the column walked in Python, to name
the first bad line. Every problem raises :class:`~skyfuse.cli.errors.InputError` with the
file name, the physical line and the column, e.g. ``tracks.csv: line 17: column lat_deg:
'abc' is not a number``. Blank lines are skipped.
"""

from __future__ import annotations

import csv
import io
import os
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skyfuse.cli.errors import InputError

__all__ = ["TrackData", "TruthData", "read_tracks", "read_truth"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

STATUS_CODES = {"tentative": 0, "confirmed": 1, "coasting": 2}
"""TRACKS ``status`` text → code (the order of :class:`skyfuse.track.table.TrackStatus`)."""


@dataclass(frozen=True, slots=True)
class TrackData:
    """Track updates, sorted by time (stable), as equal-length arrays.

    ``track`` indexes ``track_labels`` (the ``track_id`` texts as read); ``status`` is 0
    tentative, 1 confirmed, 2 coasting; ``icao24`` is the 24-bit address or -1; velocities
    east/north in m/s or NaN when unknown.
    """

    t_s: F64
    track: I64
    track_labels: NDArray[np.str_]
    status: NDArray[np.int8]
    lat_deg: F64
    lon_deg: F64
    icao24: NDArray[np.int64]
    vx_mps: F64
    vy_mps: F64

    def __len__(self) -> int:
        return len(self.t_s)


@dataclass(frozen=True, slots=True)
class TruthData:
    """Truth samples sorted by (object, time), as equal-length arrays.

    ``obj`` indexes ``labels`` (the ``truth_id`` texts); the samples of object ``j`` are
    rows ``starts[j]:starts[j + 1]``. ``obj_icao24[j]`` is the object's address (-1 when
    none; the most frequent value of its rows), ``obj_adsb[j]`` its ADS-B flag (1/0, or -1
    when the file has no ``adsb`` column).
    """

    t_s: F64
    obj: I64
    labels: NDArray[np.str_]
    lat_deg: F64
    lon_deg: F64
    vx_mps: F64
    vy_mps: F64
    starts: I64
    obj_icao24: NDArray[np.int64]
    obj_adsb: NDArray[np.int8]

    def __len__(self) -> int:
        return len(self.t_s)

    @property
    def n_objects(self) -> int:
        """Number of truth objects."""
        return len(self.labels)


class _Table:
    """The columns of one CSV file, with the physical line number of every record.

    ``floats`` holds the columns already converted by the fast path, ``columns`` the
    others as (stripped) strings.
    """

    def __init__(self, path: str | os.PathLike[str], required: tuple[str, ...],
                 optional: tuple[str, ...], float_columns: tuple[str, ...] = ()) -> None:
        self.name = os.fspath(path)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as e:
            raise InputError(f"{self.name}: cannot read: {e.strerror or e}") from None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line = 1 + data.count(b"\n", 0, e.start)
            raise InputError(f"{self.name}: line {line}: not UTF-8 text ({e.reason})") from None
        text = text.lstrip("\ufeff")
        nl = text.find("\n")
        first = text if nl < 0 else text[:nl]
        if not first.strip():
            what = "empty file" if not text.strip() else "line 1 is blank"
            raise InputError(f"{self.name}: {what}: expected a header line naming the "
                             f"columns {','.join(required)}")
        header = [c.strip() for c in next(csv.reader([first.rstrip("\r")]))]
        for c in set(header):
            if header.count(c) > 1 and c in required + optional:
                raise InputError(f"{self.name}: line 1: column '{c}' appears twice")
        for c in required:
            if c not in header:
                hint = "; columns must be separated by commas" if ";" in first else ""
                raise InputError(f"{self.name}: missing column '{c}' (header has: "
                                 f"{','.join(header)}){hint}")
        self.header = header
        self.columns: dict[str, NDArray[np.str_]] = {}
        self.floats: dict[str, F64] = {}
        wanted = [c for c in required + optional if c in header]
        body = "" if nl < 0 else text[nl + 1:]
        try:
            fast = self._fast(body, wanted, [c for c in float_columns if c in header])
        except Exception:          # any surprise: the careful pass finds the line or reads it
            fast = False
        if not fast:
            self.floats = {}
            self._careful(text, wanted)

    def _fast(self, body: str, wanted: list[str], floats: list[str]) -> bool:
        """``np.loadtxt`` on a plain body (no quotes, CR or blank lines); False to go careful."""
        if '"' in body or "\r" in body or "\n\n" in body or body.startswith("\n"):
            return False
        n = body.count("\n") + (0 if body.endswith("\n") or not body else 1)
        ncol = len(self.header)
        if n == 0 or body.count(",") != (ncol - 1) * n:
            return False
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            if floats:
                arr = np.loadtxt(io.StringIO(body), delimiter=",", comments=None, ndmin=2,
                                 usecols=[self.header.index(c) for c in floats],
                                 dtype=np.float64)
                if len(arr) != n:
                    return False
                self.floats = {c: np.ascontiguousarray(arr[:, i]) for i, c in enumerate(floats)}
            rest = [c for c in wanted if c not in self.floats]
            if rest:
                raw = np.loadtxt(io.StringIO(body), delimiter=",", comments=None, ndmin=2,
                                 usecols=[self.header.index(c) for c in rest], dtype=str)
                if len(raw) != n:
                    return False
                strip = " " in body or "\t" in body
                for i, c in enumerate(rest):
                    col = raw[:, i]
                    self.columns[c] = np.char.strip(col) if strip else np.ascontiguousarray(col)
        self.lines = np.arange(2, n + 2, dtype=np.int64)
        return True

    def _careful(self, text: str, wanted: list[str]) -> None:
        """Record by record with the ``csv`` module; the first bad record raises."""
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            if '"' in text:                       # quoted fields may span lines: count them
                records, lines = [], []
                before = 0
                for rec in reader:
                    records.append(rec)
                    lines.append(before + 1)
                    before = reader.line_num
            else:
                records = list(reader)
                lines = list(range(1, len(records) + 1))
        except csv.Error as e:
            raise InputError(f"{self.name}: line {reader.line_num}: {e}") from None
        header = self.header
        body = [(r, ln) for r, ln in zip(records[1:], lines[1:], strict=True)
                if r and not (len(r) == 1 and not r[0].strip())]
        ncol = len(header)
        for r, ln in body:
            if len(r) != ncol:
                raise InputError(f"{self.name}: line {ln}: expected {ncol} fields "
                                 f"({','.join(header)}), found {len(r)}")
        self.lines = np.asarray([ln for _r, ln in body], np.int64)
        rows = [r for r, _ln in body]
        cols = list(zip(*rows, strict=True)) if rows else [() for _ in header]
        for c in wanted:
            col = cols[header.index(c)]
            self.columns[c] = np.char.strip(np.asarray(col, dtype=str)) if col else \
                np.empty(0, dtype="<U1")

    def __len__(self) -> int:
        return len(self.lines)

    def has(self, column: str) -> bool:
        """Whether the file has ``column``."""
        return column in self.columns or column in self.floats

    def fail(self, row: int, column: str, what: str) -> InputError:
        """The error for record ``row`` (0-based, body) in ``column``."""
        return InputError(f"{self.name}: line {int(self.lines[row])}: column {column}: {what}")

    def numbers(self, column: str, *, allow_empty: bool = False, lo: float = -np.inf,
                hi: float = np.inf) -> F64:
        """``column`` as finite floats in [lo, hi] (empty → NaN when ``allow_empty``)."""
        if column in self.floats:
            v = self.floats[column]
            bad = ~np.isfinite(v)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise self.fail(i, column, f"'{v[i]}' is not a finite number")
            out = (v < lo) | (v > hi)
            if out.any():
                i = int(np.flatnonzero(out)[0])
                raise self.fail(i, column, f"{v[i]:g} is outside [{lo:g}, {hi:g}]")
            return v
        raw = self.columns[column]
        if len(raw) == 0:
            return np.empty(0)
        empty = raw == ""
        work = np.where(empty, "nan", raw) if allow_empty else raw
        try:
            v = work.astype(np.float64)
        except ValueError:
            for i, s in enumerate(work.tolist()):
                try:
                    float(s)
                except ValueError:
                    what = "is empty" if not s else f"{s!r} is not a number"
                    raise self.fail(i, column, what) from None
            raise                                   # pragma: no cover - numpy/float disagree
        bad = ~np.isfinite(v) & ~empty if allow_empty else ~np.isfinite(v)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise self.fail(i, column, f"{str(raw[i])!r} is not a finite number")
        out = (v < lo) | (v > hi)
        if out.any():
            i = int(np.flatnonzero(out)[0])
            raise self.fail(i, column, f"{raw[i]} is outside [{lo:g}, {hi:g}]")
        return v

    def labels(self, column: str) -> tuple[I64, NDArray[np.str_]]:
        """``column`` as codes into its sorted distinct non-empty values."""
        raw = self.columns[column]
        empty = np.flatnonzero(raw == "")
        if len(empty):
            raise self.fail(int(empty[0]), column, "is empty")
        names, codes = np.unique(raw, return_inverse=True)
        return codes.astype(np.int64).reshape(-1), names

    def icao24(self, column: str = "icao24") -> NDArray[np.int64]:
        """``column`` as 24-bit addresses (6 hex digits; empty → -1)."""
        if not self.has(column):
            return np.full(len(self), -1, np.int64)
        raw = self.columns[column]
        out = np.full(len(raw), -1, np.int64)
        names, inv = np.unique(raw, return_inverse=True)
        values = np.full(len(names), -1, np.int64)
        for k, s in enumerate(names.tolist()):
            if s == "":
                continue
            if len(s) != 6:
                raise self.fail(int(np.flatnonzero(inv == k)[0]), column,
                                f"{s!r} is not 6 hex digits")
            try:
                values[k] = int(s, 16)
            except ValueError:
                raise self.fail(int(np.flatnonzero(inv == k)[0]), column,
                                f"{s!r} is not 6 hex digits") from None
        out[:] = values[inv.reshape(-1)]
        return out


def read_tracks(path: str | os.PathLike[str]) -> TrackData:
    """The TRACKS CSV at ``path``, sorted by time; :class:`InputError` on bad input."""
    tab = _Table(path, ("t_s", "track_id", "lat_deg", "lon_deg"),
                 ("status", "icao24", "vx_mps", "vy_mps"), ("t_s", "lat_deg", "lon_deg"))
    n = len(tab)
    t = tab.numbers("t_s")
    track, labels = tab.labels("track_id")
    if tab.has("status"):
        raw = np.char.lower(tab.columns["status"])
        status = np.full(n, -1, np.int8)
        for name, code in STATUS_CODES.items():
            status[raw == name] = code
        bad = np.flatnonzero(status < 0)
        if len(bad):
            got = str(tab.columns["status"][bad[0]])
            raise tab.fail(int(bad[0]), "status",
                           f"{got!r} is not tentative, confirmed or coasting")
    else:
        status = np.ones(n, np.int8)
    lat = tab.numbers("lat_deg", lo=-90, hi=90)
    lon = tab.numbers("lon_deg", lo=-180, hi=360)
    vx = tab.numbers("vx_mps", allow_empty=True) if tab.has("vx_mps") else np.full(n, np.nan)
    vy = tab.numbers("vy_mps", allow_empty=True) if tab.has("vy_mps") else np.full(n, np.nan)
    order = np.argsort(t, kind="stable")
    return TrackData(t_s=t[order], track=track[order], track_labels=labels,
                     status=status[order], lat_deg=lat[order], lon_deg=_wrap_lon(lon[order]),
                     icao24=tab.icao24()[order], vx_mps=vx[order], vy_mps=vy[order])


def read_truth(path: str | os.PathLike[str]) -> TruthData:
    """The truth CSV at ``path``, sorted by (object, time); :class:`InputError` on bad input.

    Two samples of one object at the same time are an error (the line of the second).
    """
    tab = _Table(path, ("t_s", "truth_id", "lat_deg", "lon_deg", "vx_mps", "vy_mps"),
                 ("icao24", "adsb"), ("t_s", "lat_deg", "lon_deg", "vx_mps", "vy_mps"))
    t = tab.numbers("t_s")
    obj, labels = tab.labels("truth_id")
    lat = tab.numbers("lat_deg", lo=-90, hi=90)
    lon = _wrap_lon(tab.numbers("lon_deg", lo=-180, hi=360))
    vx = tab.numbers("vx_mps")
    vy = tab.numbers("vy_mps")
    icao = tab.icao24()
    adsb_rows = (tab.numbers("adsb", allow_empty=True) if tab.has("adsb")
                 else np.full(len(tab), np.nan))
    order = np.lexsort((t, obj))
    dup = np.flatnonzero((np.diff(obj[order]) == 0) & (np.diff(t[order]) == 0))
    if len(dup):
        i = int(order[dup[0] + 1])
        raise tab.fail(i, "t_s", f"truth_id {labels[obj[i]]} has two samples at t_s {t[i]}")
    m = len(labels)
    starts = np.searchsorted(obj[order], np.arange(m + 1)).astype(np.int64)
    obj_icao = np.full(m, -1, np.int64)
    obj_adsb = np.full(m, -1, np.int8)
    io_sorted, ad_sorted = icao[order], adsb_rows[order]
    for j in range(m):
        a = io_sorted[starts[j]:starts[j + 1]]
        a = a[a >= 0]
        if len(a):
            vals, cnt = np.unique(a, return_counts=True)
            obj_icao[j] = vals[np.argmax(cnt)]
        f = ad_sorted[starts[j]:starts[j + 1]]
        f = f[np.isfinite(f)]
        if len(f):
            obj_adsb[j] = 1 if np.mean(f) >= 0.5 else 0
    return TruthData(t_s=t[order], obj=obj[order], labels=labels, lat_deg=lat[order],
                     lon_deg=lon[order], vx_mps=vx[order], vy_mps=vy[order], starts=starts,
                     obj_icao24=obj_icao, obj_adsb=obj_adsb)


def _wrap_lon(lon_deg: F64) -> F64:
    """Longitudes in [-180, 180)."""
    return (lon_deg + 180.0) % 360.0 - 180.0
