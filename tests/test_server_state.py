"""LiveState: latest row wins, trails, growth, removals, and diffs that rebuild the state."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from skyfuse.runtime.tracks_csv import TrackRows
from skyfuse.server.state import LiveState, TrackView


def rows(ids: NDArray[np.int64] | list[int], t_s: NDArray[np.float64] | float,
         lat: float | NDArray[np.float64] = 48.0, status: int = 1) -> TrackRows:
    a = np.asarray(ids, np.int64)
    n = len(a)
    t = np.broadcast_to(np.asarray(t_s, np.float64), (n,)).copy()
    return TrackRows(t_s=t, track_id=a, status=np.full(n, status, np.int8),
                     lat_deg=np.broadcast_to(np.asarray(lat, np.float64), (n,)).copy(),
                     lon_deg=np.full(n, 2.0), alt_ft=np.full(n, 3000.0),
                     icao24=np.full(n, -1, np.int32), callsign=np.zeros(n, "S8"),
                     vx_mps=np.zeros(n), vy_mps=np.zeros(n))


def as_dict(v: TrackView) -> dict[int, tuple[float, float]]:
    return {int(i): (float(t), float(la)) for i, t, la in zip(v.track_id, v.t_s, v.lat_deg,
                                                              strict=True)}


def test_latest_row_of_a_batch_wins() -> None:
    st = LiveState()
    st.update(rows([3, 3, 3, 1], np.array([5.0, 7.0, 6.0, 1.0]),
                   lat=np.array([1.0, 2.0, 3.0, 4.0])))
    assert as_dict(st.view()) == {1: (1.0, 4.0), 3: (7.0, 2.0)}
    assert st.time_s == 7.0


def test_rows_without_position_are_ignored() -> None:
    st = LiveState()
    st.update(rows([1, 2], 1.0, lat=np.array([np.nan, 10.0])))
    assert list(st.view().track_id) == [2]


def test_growth_keeps_every_track_and_trail() -> None:
    st = LiveState(capacity=16, trail_points=4, trail_min_dt_s=0.0)
    ids = np.arange(1, 2001)
    for k in range(6):
        st.update(rows(ids, float(k), lat=float(k)))
    assert len(st) == 2000
    got = st.track(1500)
    assert got is not None
    view, trail = got
    assert view.t_s[0] == 5.0
    assert trail[:, 0].tolist() == [2.0, 3.0, 4.0, 5.0]         # ring of 4, oldest first
    assert trail[:, 1].tolist() == [2.0, 3.0, 4.0, 5.0]


def test_trail_thinned_by_min_dt() -> None:
    st = LiveState(trail_points=10, trail_min_dt_s=2.0)
    for t in (0.0, 0.5, 1.0, 2.0, 2.5, 4.5):
        st.update(rows([9], t))
    got = st.track(9)
    assert got is not None
    assert got[1][:, 0].tolist() == [0.0, 2.0, 4.5]


def test_retain_and_remove_log_removals() -> None:
    st = LiveState()
    st.update(rows([1, 2, 3, 4], 1.0))
    s0 = st.seq
    st.retain(np.array([2, 4]))
    st.remove([4, 99])
    ch = st.changes(s0)
    assert ch is not None
    assert sorted(ch.remove.tolist()) == [1, 3, 4]
    assert len(ch.upsert) == 0
    assert list(st.view().track_id) == [2]
    n = st.seq
    st.retain(np.array([2]))                                     # no change: no new seq
    assert st.seq == n


def test_tentative_hidden_until_confirmed() -> None:
    st = LiveState()
    st.update(rows([1], 1.0, status=0))
    assert len(st.view()) == 0 and len(st.view(include_tentative=True)) == 1
    s0 = st.seq
    st.update(rows([1], 2.0, status=1))
    ch = st.changes(s0)
    assert ch is not None and ch.upsert.track_id.tolist() == [1]


def test_old_cursor_beyond_removal_log_needs_snapshot() -> None:
    st = LiveState(max_removals=10)
    st.update(rows(np.arange(1, 40), 1.0))
    s0 = st.seq
    for i in range(1, 40, 3):
        st.remove([i, i + 1, i + 2])
    assert st.changes(s0) is None
    assert st.changes(st.seq) is not None


def test_snapshot_plus_diffs_equal_state_under_random_changes() -> None:
    """A client that applies snapshot then diffs, at random moments, ends with the state."""
    rng = np.random.default_rng(5)
    st = LiveState(capacity=16)
    client: dict[int, tuple[float, float]] = {}
    cursor = -1
    next_id = 1
    t = 0.0
    for _ in range(300):
        t += 1.0
        op = rng.integers(0, 4)
        alive = st.view(include_tentative=True).track_id
        if op <= 1:
            new = np.arange(next_id, next_id + rng.integers(0, 30))
            next_id += len(new)
            old = alive[rng.random(len(alive)) < 0.5] if len(alive) else alive
            ids = np.concatenate([new, old])
            st.update(rows(ids, t, lat=rng.normal(48, 1, len(ids)),
                           status=int(rng.integers(0, 3))))
        elif op == 2 and len(alive):
            st.retain(alive[rng.random(len(alive)) < 0.8])
        if rng.random() < 0.3:                                   # the client catches up
            ch = None if cursor < 0 else st.changes(cursor)
            if ch is None:
                v = st.view()
                client = as_dict(v)
                cursor = v.seq
            else:
                for i in ch.remove.tolist():
                    client.pop(i, None)
                client.update(as_dict(ch.upsert))
                cursor = ch.upsert.seq
    ch = st.changes(cursor)
    assert ch is not None
    for i in ch.remove.tolist():
        client.pop(i, None)
    client.update(as_dict(ch.upsert))
    assert client == as_dict(st.view())
    assert len(client) > 20


def test_retain_takes_the_trackers_status() -> None:
    st = LiveState()
    st.update(rows([1, 2, 3], 1.0))
    s0 = st.seq
    st.retain(np.array([3, 1]), np.array([2, 1], np.int8))       # 3 coasting, 2 deleted
    ch = st.changes(s0)
    assert ch is not None
    assert ch.remove.tolist() == [2]
    assert ch.upsert.track_id.tolist() == [3] and ch.upsert.status.tolist() == [2]
    n = st.seq
    st.retain(np.array([1, 3]), np.array([1, 2], np.int8))       # nothing new
    assert st.seq == n


def test_a_track_removed_then_back_is_only_upserted() -> None:
    """Regression: an id removed and updated again after the client's cursor came in both
    ``remove`` and ``upsert``; the web map applies upserts first, then removals, so it
    dropped a live track (the Python clients of the tests apply them the other way)."""
    st = LiveState()
    st.update(rows(np.array([1, 2]), 10.0))
    cursor = st.seq
    st.remove([1, 2])
    st.update(rows(np.array([1]), 11.0))
    ch = st.changes(cursor)
    assert ch is not None
    assert ch.upsert.track_id.tolist() == [1] and ch.remove.tolist() == [2]
    for order in ("upsert first", "remove first"):              # both give the state
        client = {1: (48.0, 2.0), 2: (48.0, 2.0)}
        if order == "remove first":
            for i in ch.remove.tolist():
                client.pop(i, None)
        client.update(as_dict(ch.upsert))
        for i in ch.remove.tolist():
            client.pop(i, None)
        assert client == as_dict(st.view()), order
