"""History store: round trip, exact query answers, bounds, retention, recognition."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from skyfuse.outputs.history import (
    MAX_LIMIT,
    HistoryError,
    HistoryQueryError,
    HistoryReader,
    HistoryStore,
    query_history,
    trail,
)
from skyfuse.outputs.history_schema import cell_of, cells_in_box
from skyfuse.runtime.tracks_csv import TrackRows

FIELDS = ("t_s", "track_id", "status", "lat_deg", "lon_deg", "alt_ft", "icao24", "callsign",
          "vx_mps", "vy_mps")


def make_rows(n_tracks: int, n_scans: int, seed: int = 1, t0_s: float = 1.7e9) -> TrackRows:
    """``n_scans`` updates of ``n_tracks`` tracks spread over Europe and the antimeridian,
    with absent altitudes, addresses and callsigns mixed in."""
    rng = np.random.default_rng(seed)
    k = np.tile(np.arange(n_tracks), n_scans)
    scan = np.repeat(np.arange(n_scans), n_tracks)
    lat0 = rng.uniform(-60, 70, n_tracks)
    lon0 = rng.uniform(-180, 180, n_tracks)
    special = np.array([179.5, -179.5, 179.9, -179.9, 0.0])
    lon0[:5] = special[:min(5, n_tracks)]
    n = len(k)
    alt = rng.uniform(0, 40000, n_tracks)[k]
    alt[rng.random(n) < 0.2] = np.nan
    icao = np.where(np.arange(n_tracks) % 4 == 0, -1, 0x400000 + np.arange(n_tracks))[k]
    calls = np.array([b"" if i % 3 == 0 else b"CS%04d" % i for i in range(n_tracks)], "S8")[k]
    return TrackRows(
        t_s=t0_s + scan * 1.0 + rng.uniform(0, 0.5, n), track_id=(k + 100).astype(np.int64),
        status=(k % 3).astype(np.int8), lat_deg=lat0[k] + scan * 1e-3,
        lon_deg=lon0[k] + scan * 1e-3 * np.where(lon0[k] > 179, 0, 1),
        alt_ft=alt, icao24=icao.astype(np.int32), callsign=calls,
        vx_mps=rng.normal(0, 100, n), vy_mps=rng.normal(0, 100, n))


def take(rows: TrackRows, mask: Any) -> TrackRows:
    """The rows where ``mask`` (time-sorted, stable, like the store answers)."""
    idx = np.flatnonzero(mask)
    idx = idx[np.argsort(rows.t_s[idx], kind="stable")]
    return TrackRows(*(getattr(rows, f)[idx] for f in FIELDS))


def assert_rows_equal(got: TrackRows, want: TrackRows) -> None:
    assert len(got) == len(want)
    for f in FIELDS:
        a, b = getattr(got, f), getattr(want, f)
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(a, b, err_msg=f)     # NaN == NaN here
        else:
            assert a.tolist() == b.tolist(), f


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, TrackRows]:
    path = tmp_path_factory.mktemp("hist") / "history.db"
    rows = make_rows(200, 30)
    with HistoryStore(path, flush_s=0.05) as store:
        for s in range(30):                       # one publish per scan, as the runtime does
            sl = slice(s * 200, (s + 1) * 200)
            store.publish(TrackRows(*(getattr(rows, f)[sl] for f in FIELDS)))
        assert store.flush()
        assert store.stats["rows_written"] == len(rows) and store.stats["rows_dropped"] == 0
    return path, rows


def test_round_trip_every_column(stored: tuple[Path, TrackRows]) -> None:
    path, rows = stored
    got = query_history(path, limit=MAX_LIMIT)
    assert_rows_equal(got, take(rows, np.ones(len(rows), bool)))
    assert (got.icao24 == -1).sum() == 50 * 30 and (got.callsign == b"").sum() == 67 * 30
    assert np.isnan(got.alt_ft).any()


def test_queries_return_exactly_the_matching_rows(stored: tuple[Path, TrackRows]) -> None:
    path, rows = stored
    t0 = float(rows.t_s.min())
    q = dict(limit=MAX_LIMIT)
    start, end = t0 + 5.2, t0 + 11.4
    assert_rows_equal(query_history(path, start_s=start, end_s=end, **q),
                      take(rows, (rows.t_s >= start) & (rows.t_s <= end)))
    assert_rows_equal(query_history(path, icao24="400007", **q),
                      take(rows, rows.icao24 == 0x400007))
    assert_rows_equal(query_history(path, icao24=0x400007, start_s=start, **q),
                      take(rows, (rows.icao24 == 0x400007) & (rows.t_s >= start)))
    assert_rows_equal(query_history(path, callsign=" cs0005 ", **q),
                      take(rows, rows.callsign == b"CS0005"))
    assert_rows_equal(query_history(path, track_id=117, **q), take(rows, rows.track_id == 117))
    box = (35.0, -10.0, 60.0, 30.0)
    inside = ((rows.lat_deg >= 35) & (rows.lat_deg <= 60) & (rows.lon_deg >= -10)
              & (rows.lon_deg <= 30))
    assert inside.sum() > 100
    assert_rows_equal(query_history(path, bbox=box, **q), take(rows, inside))
    both = inside & (rows.t_s <= end)
    assert_rows_equal(query_history(path, bbox=box, end_s=end, **q), take(rows, both))
    # a box over the antimeridian: lon0 > lon1
    anti = (rows.lon_deg >= 179.0) | (rows.lon_deg <= -179.0)
    got = query_history(path, bbox=(-90, 179.0, 90, -179.0), **q)
    assert len(got) >= 4 * 30
    assert_rows_equal(got, take(rows, anti))
    assert len(query_history(path, icao24="abcdef")) == 0


def test_limit_gives_the_first_rows_in_time(stored: tuple[Path, TrackRows]) -> None:
    path, rows = stored
    got = query_history(path, limit=250)
    assert_rows_equal(got, take(rows, np.argsort(np.argsort(rows.t_s, kind="stable")) < 250))


def test_trail_is_the_last_points_oldest_first(stored: tuple[Path, TrackRows]) -> None:
    path, rows = stored
    m = rows.track_id == 150
    tr = trail(path, 150, limit=5)
    assert tr.shape == (5, 4)
    t = np.sort(rows.t_s[m])[-5:]
    np.testing.assert_array_equal(tr[:, 0], t)
    i = np.flatnonzero(m)[np.argsort(rows.t_s[m])][-5:]
    np.testing.assert_array_equal(tr[:, 1:3], np.c_[rows.lat_deg[i], rows.lon_deg[i]])
    since = trail(path, 150, since_s=float(t[2]))
    np.testing.assert_array_equal(since[:, 0], t[2:])
    assert trail(path, 99_999).shape == (0, 4)


@pytest.mark.parametrize("kwargs", [
    {"limit": 0}, {"limit": MAX_LIMIT + 1}, {"icao24": "xyz"}, {"icao24": 1 << 24},
    {"bbox": (1, 2, 3)}, {"bbox": (50, 0, 40, 10)}, {"bbox": (0, -200, 10, 10)},
    {"start_s": 10.0, "end_s": 5.0}, {"max_span_s": 60.0},
    {"start_s": 0.0, "end_s": 3600.0, "max_span_s": 60.0},
])
def test_bad_query_arguments_are_refused(stored: tuple[Path, TrackRows],
                                         kwargs: dict[str, Any]) -> None:
    with pytest.raises(HistoryQueryError):
        query_history(stored[0], **kwargs)


def test_max_span_allows_a_short_range(stored: tuple[Path, TrackRows]) -> None:
    path, rows = stored
    t0 = float(rows.t_s.min())
    got = query_history(path, start_s=t0, end_s=t0 + 2.0, max_span_s=60.0)
    assert len(got) == int(((rows.t_s >= t0) & (rows.t_s <= t0 + 2.0)).sum())


def test_files_that_are_not_stores_are_refused(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.sqlite"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    for p in (text, other):
        with pytest.raises(HistoryError, match="not a skyfuse history store"):
            HistoryReader(p)
        with pytest.raises(HistoryError, match="not a skyfuse history store"):
            HistoryStore(p)
    with pytest.raises(HistoryError, match="no such history store"):
        HistoryReader(tmp_path / "missing.db")
    assert text.read_text().startswith("not a database")          # left untouched


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    HistoryStore(p).close()
    con = sqlite3.connect(p)
    con.execute("PRAGMA user_version = 99")
    con.commit()
    con.close()
    with pytest.raises(HistoryError, match="version 99"):
        HistoryReader(p)


def test_store_reopens_and_appends(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    rows = make_rows(10, 4)
    with HistoryStore(p) as s:
        s.publish(rows)
    with HistoryStore(p) as s:
        s.publish(rows)
    with HistoryReader(p) as r:
        assert r.count() == 2 * len(rows)
        assert r.time_range() == (float(rows.t_s.min()), float(rows.t_s.max()))
        assert r._con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_retention_deletes_old_updates_in_batches(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    rows = make_rows(50, 100)                   # 100 s of data
    with HistoryStore(p, flush_s=0.02, retention_s=30.0, retention_batch_rows=700) as s:
        s.publish(rows)
        for _ in range(20):                     # each writer cycle deletes ≤ 700 rows
            s.flush()
            s.publish(make_rows(1, 1, t0_s=float(rows.t_s.max()) - 0.5))
        assert s.stats["rows_deleted"] > 0
    t_max = float(rows.t_s.max())
    with HistoryReader(p) as r:
        lo, _hi = r.time_range() or (0.0, 0.0)
    assert lo >= t_max - 30.0
    left = query_history(p, limit=MAX_LIMIT)
    assert len(left) == int((rows.t_s >= t_max - 30.0).sum()) + 20


def test_publish_never_blocks_and_counts_drops(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    rows = make_rows(100, 1)
    s = HistoryStore(p, flush_s=10.0, max_pending_rows=250)
    for _ in range(5):
        s.publish(rows)
    assert s.stats["rows_dropped"] == 300
    s.close()
    s.publish(rows)                             # after close: dropped, no error
    assert s.stats["rows_dropped"] == 400
    assert HistoryReader(p).count() == 200


def test_cells() -> None:
    c = cell_of(np.array([47.5, -90.0, 89.99, np.nan, 0.0]),
                np.array([8.5, -180.0, 179.99, 1.0, 180.0]))
    assert c.tolist() == [(47 + 90) * 360 + 188, 0, 179 * 360 + 359, None, 90 * 360]
    assert cells_in_box(47.2, 8.1, 47.9, 8.9) == [(47 + 90) * 360 + 188]
    assert len(cells_in_box(40, 179.5, 41, -179.5)) == 4
    assert len(cells_in_box(-90, -180, 90, 180)) == 180 * 360


def test_odd_callsign_bytes_and_the_output_protocol(tmp_path: Path) -> None:
    from skyfuse.outputs.base import TrackOutput

    rows = make_rows(3, 1)
    rows = TrackRows(**{**{f: getattr(rows, f) for f in FIELDS},
                        "callsign": np.array([b"\xffAB", b"  ", b"ABCDEFGH"], "S8")})
    with HistoryStore(tmp_path / "h.db") as s:
        assert isinstance(s, TrackOutput)
        s.publish(rows)
    got = query_history(tmp_path / "h.db")
    assert sorted(got.callsign.tolist()) == [b"", b"?AB", b"ABCDEFGH"]


def test_a_bad_batch_is_dropped_and_the_writer_goes_on(tmp_path: Path) -> None:
    good = make_rows(4, 1)
    bad = TrackRows(**{**{f: getattr(good, f) for f in FIELDS},
                       "callsign": np.array([b"A", b"B"], "S8")})      # wrong length
    with HistoryStore(tmp_path / "h.db", flush_s=0.02) as s:
        s.publish(bad)
        assert s.flush(timeout_s=10)
        s.publish(good)
        assert s.flush(timeout_s=10)
        assert s.stats["rows_dropped"] == 4 and s.stats["last_error"]
    assert len(query_history(tmp_path / "h.db")) == 4


def test_key_spans_follow_a_long_track_across_many_commits(tmp_path: Path) -> None:
    """track_key spans are refreshed lazily (KEY_SLACK_S); answers must stay exact."""
    p = tmp_path / "h.db"
    one = make_rows(1, 1)
    with HistoryStore(p, flush_s=10.0) as s:
        for k in range(300):                       # 300 s, one commit per second
            s.publish(TrackRows(**{**{f: getattr(one, f) for f in FIELDS},
                                   "t_s": np.array([1.7e9 + k]),
                                   "lat_deg": np.array([40.0 + k * 0.01]),
                                   "lon_deg": np.array([1.0]),
                                   "icao24": np.array([0x3C0001], np.int32),
                                   "callsign": np.array([b"LONG1"], "S8")}))
            s.flush()
    t = 1.7e9
    for kw, n in (({"icao24": 0x3C0001}, 300), ({"icao24": 0x3C0001, "start_s": t + 250}, 50),
                  ({"callsign": "LONG1", "start_s": t + 299}, 1),
                  ({"callsign": "LONG1", "end_s": t + 9}, 10),
                  ({"bbox": (42.5, 0.5, 43.5, 1.5)}, 50),         # k = 250..299
                  ({"bbox": (42.0, 0.5, 42.995, 1.5), "start_s": t + 200}, 100)):
        assert len(query_history(p, limit=MAX_LIMIT, **kw)) == n, kw
    # the area answers, exactly
    got = query_history(p, bbox=(42.5, 0.5, 43.5, 1.5), limit=MAX_LIMIT)
    assert got.t_s.tolist() == [t + k for k in range(250, 300)]
    got = query_history(p, bbox=(41.0, 0.5, 42.005, 1.5), start_s=t + 150, limit=MAX_LIMIT)
    assert got.t_s.tolist() == [t + k for k in range(150, 201)]
    con = sqlite3.connect(p)
    n_keys = con.execute("SELECT count(*) FROM track_key").fetchone()[0]
    con.close()
    assert n_keys == 2 + 3                      # icao24, callsign, cells 40, 41, 42


def test_the_time_index_path_gives_the_same_answers(
        stored: tuple[Path, TrackRows], monkeypatch: pytest.MonkeyPatch) -> None:
    import skyfuse.outputs.history as history

    path, rows = stored
    queries: list[dict[str, Any]] = [
        {"icao24": 0x400009}, {"callsign": "CS0010"}, {"bbox": (35.0, -10.0, 60.0, 30.0)},
        {"bbox": (-90.0, -180.0, 90.0, 180.0)}, {"bbox": (30.0, 0.0, 50.0, 20.0), "limit": 7}]
    via_keys = [query_history(path, **q) for q in queries]
    monkeypatch.setattr(history, "_MAX_SPANS", 0)
    for q, want in zip(queries, via_keys, strict=True):
        assert_rows_equal(query_history(path, **q), want)
    assert len(via_keys[3]) == len(rows)         # the whole world: every update
    assert len(via_keys[4]) == 7


def test_optional_columns_round_trip(tmp_path: Path) -> None:
    base = make_rows(4, 1)
    names = {f for f in TrackRows.__dataclass_fields__}
    if not {"mode3a", "quality", "sensors", "vrate_fpm"} <= names:
        pytest.skip("TrackRows has no optional columns yet")
    rows = TrackRows(**{**{f: getattr(base, f) for f in FIELDS},
                        "mode3a": np.array([0o7000, -1, 0o1234, 0], np.int16),
                        "quality": np.array([0.5, np.nan, 1.0, 0.0], np.float32),
                        "sensors": np.array([1, 0, 6, 1 << 62], np.int64),
                        "vrate_fpm": np.array([-640.0, np.nan, 0.0, 3000.0])})
    with HistoryStore(tmp_path / "h.db") as s:
        s.publish(rows)
    got = query_history(tmp_path / "h.db")
    order = np.argsort(got.track_id)
    assert got.mode3a[order].tolist() == [0o7000, -1, 0o1234, 0]
    np.testing.assert_array_equal(got.quality[order], rows.quality)
    assert got.sensors[order].tolist() == [1, 0, 6, 1 << 62]
    np.testing.assert_array_equal(got.vrate_fpm[order], rows.vrate_fpm)


def test_foreign_values_in_the_file_do_not_break_queries(tmp_path: Path) -> None:
    p = tmp_path / "h.db"
    with HistoryStore(p) as s:
        s.publish(make_rows(2, 1))
    con = sqlite3.connect(p)
    con.execute("INSERT INTO track_update (t_s, track_id, status, callsign, alt_ft) "
                "VALUES (1.7e9 + 5, 7, 1, 'ÄÖÜ-LONGER-THAN-8', NULL)")
    con.commit()
    con.close()
    got = query_history(p)
    assert len(got) == 3 and got.callsign[-1] == b"???-LONG" and np.isnan(got.alt_ft[-1])
    assert got.icao24[-1] == -1 and np.isnan(got.lat_deg[-1])


def test_updates_without_a_time_are_dropped_alone(tmp_path: Path) -> None:
    rows = make_rows(5, 1)
    t = rows.t_s.copy()
    t[[1, 3]] = [np.nan, np.inf]
    with HistoryStore(tmp_path / "h.db") as s:
        s.publish(TrackRows(**{**{f: getattr(rows, f) for f in FIELDS}, "t_s": t}))
        s.flush()
        assert s.stats["rows_dropped"] == 2 and s.stats["rows_written"] == 3
    assert query_history(tmp_path / "h.db").track_id.tolist() == sorted(
        rows.track_id[[0, 2, 4]].tolist(), key=lambda i: rows.t_s[i - 100])


def test_a_non_finite_time_never_moves_the_retention_cutoff(tmp_path: Path) -> None:
    """Regression: the newest time written was taken from the published arrays, so a
    +inf time (dropped, never stored) made the retention cutoff +inf and deleted every
    stored update; an all-NaN batch raised NumPy's all-NaN warning in the writer."""
    good = make_rows(10, 5)                      # 5 s of data, retention 30 s: all kept
    bad_t = {f: getattr(good, f)[:2] for f in FIELDS}
    with HistoryStore(tmp_path / "h.db", flush_s=10.0, retention_s=30.0) as s:
        s.publish(TrackRows(**{**bad_t, "t_s": np.array([np.inf, good.t_s.max()])}))
        s.publish(TrackRows(**{**bad_t, "t_s": np.array([np.nan, np.nan])}))
        s.publish(good)
        assert s.flush()
        assert s.flush()                         # a second cycle: retention has run
        assert s.stats["last_error"] is None
        assert s.stats["rows_deleted"] == 0 and s.stats["rows_dropped"] == 3
    assert len(query_history(tmp_path / "h.db", limit=MAX_LIMIT)) == len(good) + 1
