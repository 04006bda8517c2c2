"""Association building blocks against brute force: GNN assignment, spatial-index candidates,
address joins, two-point initiation pairs, chi-square gates."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from skyfuse.measure.batch import MeasurementBatch
from skyfuse.track.associate.gating import candidate_pairs, chi2_gate, pairs_within
from skyfuse.track.associate.gnn import components, gnn_assign
from skyfuse.track.associate.identity import address_conflict, address_pairs
from skyfuse.track.manage.initiate import InitiationPool, two_point_pairs, two_point_state

# -- GNN -----------------------------------------------------------------------------------


def brute_force_assignment(tracks: np.ndarray, reports: np.ndarray, cost: np.ndarray
                           ) -> tuple[int, float]:
    """(most pairs any matching can have, least total cost among matchings that many)."""
    best = (0, 0.0)
    n = len(tracks)
    for size in range(n, 0, -1):
        costs = [float(cost[list(c)].sum()) for c in itertools.combinations(range(n), size)
                 if len(set(tracks[list(c)])) == size and len(set(reports[list(c)])) == size]
        if costs:
            return size, min(costs)
    return best


@st.composite
def sparse_problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, int]:
    n_tracks = draw(st.integers(1, 5))
    n_reports = draw(st.integers(1, 5))
    all_pairs = list(itertools.product(range(n_tracks), range(n_reports)))
    chosen = draw(st.lists(st.sampled_from(all_pairs), min_size=0, max_size=9, unique=True))
    chosen = chosen[:9]
    cost = draw(st.lists(st.floats(-50.0, 50.0, allow_nan=False, allow_infinity=False),
                         min_size=len(chosen), max_size=len(chosen)))
    t = np.array([p[0] for p in chosen], np.intp)
    r = np.array([p[1] for p in chosen], np.intp)
    return t, r, np.array(cost, np.float64), n_tracks, n_reports


@settings(max_examples=300, deadline=None)
@given(sparse_problems())
def test_gnn_assign_is_max_cardinality_then_min_cost(
        problem: tuple[np.ndarray, np.ndarray, np.ndarray, int, int]) -> None:
    t, r, c, n_tracks, n_reports = problem
    chosen = gnn_assign(t, r, c, n_tracks, n_reports)
    assert chosen.dtype == np.bool_ and chosen.shape == t.shape
    assert len(set(t[chosen])) == chosen.sum()           # each track at most once
    assert len(set(r[chosen])) == chosen.sum()           # each report at most once
    size, cost = brute_force_assignment(t, r, c)
    assert chosen.sum() == size
    assert abs(float(c[chosen].sum()) - cost) <= 1e-9 * max(1.0, abs(cost))


def test_gnn_prefers_two_pairs_over_one_cheaper_pair() -> None:
    # track 0 could take report 0 cheaply, but then track 1 gets nothing: use both reports
    t = np.array([0, 0, 1])
    r = np.array([0, 1, 0])
    c = np.array([0.0, 100.0, 50.0])
    chosen = gnn_assign(t, r, c, 2, 2)
    assert chosen.tolist() == [False, True, True]


def test_gnn_solves_independent_components_and_lone_pairs() -> None:
    rng = np.random.default_rng(3)
    # ten independent 2x2 blocks plus five lone pairs; each block's optimum is known
    t, r, c, expected = [], [], [], []
    for b in range(10):
        a = rng.uniform(0, 10, 4)                         # (0,0) (0,1) (1,0) (1,1)
        t += [2 * b, 2 * b, 2 * b + 1, 2 * b + 1]
        r += [2 * b, 2 * b + 1, 2 * b, 2 * b + 1]
        c += list(a)
        diag = a[0] + a[3] <= a[1] + a[2]
        expected += [diag, not diag, not diag, diag]
    for i in range(5):
        t.append(20 + i)
        r.append(20 + i)
        c.append(rng.uniform(-5, 5))
        expected.append(True)
    order = rng.permutation(len(t))
    ta, ra, ca = np.array(t)[order], np.array(r)[order], np.array(c)[order]
    chosen = gnn_assign(ta, ra, ca, 25, 25)
    assert chosen.tolist() == list(np.array(expected)[order])


def test_gnn_of_nothing() -> None:
    e = np.empty(0, np.intp)
    assert gnn_assign(e, e, np.empty(0), 3, 3).shape == (0,)


def test_components_labels_connected_pairs_alike() -> None:
    t = np.array([0, 0, 1, 2, 3])
    r = np.array([0, 1, 1, 2, 3])
    lab = components(t, r, 4, 4)
    assert lab[0] == lab[1] == lab[2]
    assert len({lab[0], lab[3], lab[4]}) == 3


# -- candidate pairs -------------------------------------------------------------------------


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(0, 30), st.integers(0, 40))
def test_candidate_pairs_equal_brute_force_distance_check(seed: int, k: int, m: int) -> None:
    rng = np.random.default_rng(seed)
    track_xy = rng.uniform(-5000, 5000, (k, 2))
    report_xy = rng.uniform(-5000, 5000, (m, 2))
    radius = rng.uniform(0, 3000, k)
    t, r = candidate_pairs(track_xy, radius, report_xy)
    got = set(zip(t.tolist(), r.tolist(), strict=True))
    dist = np.linalg.norm(track_xy[:, None, :] - report_xy[None, :, :], axis=-1)
    want = {(i, j) for i in range(k) for j in range(m) if dist[i, j] <= radius[i]}
    assert got == want
    assert len(got) == len(t)                             # no duplicates
    key = t * (m + 1) + r
    assert np.all(np.diff(key) > 0)                       # sorted by track, then report


# -- identity --------------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([-1, 0, 5, 0xABCDEF, 0xFFFFFF, 77]), max_size=12),
       st.lists(st.sampled_from([-1, 0, 5, 0xABCDEF, 0xFFFFFF, 12]), max_size=12))
def test_address_pairs_equal_brute_force_join(track_icao: list[int], report_icao: list[int]
                                              ) -> None:
    ti = np.array(track_icao, np.int32)
    ri = np.array(report_icao, np.int32)
    t, r = address_pairs(ti, ri)
    got = sorted(zip(t.tolist(), r.tolist(), strict=True))
    want = sorted((i, j) for i, a in enumerate(track_icao) for j, b in enumerate(report_icao)
                  if a >= 0 and a == b)
    assert got == want                                    # duplicated addresses: every pair


def test_address_conflict_needs_two_known_different_addresses() -> None:
    a = np.array([-1, -1, 5, 5, 5], np.int32)
    b = np.array([-1, 5, -1, 5, 6], np.int32)
    assert address_conflict(a, b).tolist() == [False, False, False, False, True]


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([0.9, 0.99, 0.9997, 1.0 - 1e-9]), st.sampled_from([2, 3]))
def test_chi2_gate_is_the_chi_square_quantile(p: float, dof: int) -> None:
    assert abs(chi2_gate(p, dof) - chi2.isf(1.0 - p, dof)) <= 1e-7 * chi2.isf(1.0 - p, dof)


# -- two-point initiation ------------------------------------------------------------------


def brute_force_two_point(pool: InitiationPool, t: np.ndarray, icao: np.ndarray,
                          xy: np.ndarray, Rxy: np.ndarray, vmax: float, max_dt: float
                          ) -> dict[int, int]:
    out = {}
    var_p = np.trace(pool.Rxy, axis1=1, axis2=2)
    var_n = np.trace(Rxy, axis1=1, axis2=2)
    for j in range(len(t)):
        cands = []
        for i in range(len(pool)):
            dt = t[j] - pool.reports.t_s[i]
            dist = float(np.linalg.norm(xy[j] - pool.xy[i]))
            reach = vmax * dt + 3.0 * np.sqrt(var_p[i] + var_n[j])
            pi = int(pool.reports.icao24[i])
            conflict = pi >= 0 and icao[j] >= 0 and pi != icao[j]
            if 0 < dt <= max_dt and dist <= reach and not pool.used[i] and not conflict:
                same = icao[j] >= 0 and pi == icao[j]
                cands.append((not same, dt, dist, i))
        if cands:
            out[j] = min(cands)[3]
    return out


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_two_point_pairs_equal_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_pool, m = int(rng.integers(0, 25)), int(rng.integers(0, 15))
    pool_t = np.sort(rng.choice([0.0, 1.0, 2.0, 3.0], n_pool))
    addr = np.array([-1, -1, 7, 8])
    pool_batch = MeasurementBatch.cartesian(pool_t, rng.uniform(-3000, 3000, (n_pool, 2)),
                                            rng.uniform(20, 200, n_pool),
                                            icao24=rng.choice(addr, n_pool))
    pool = InitiationPool.empty().add(pool_batch, pool_batch.z[:, :2], pool_batch.R[:, :2, :2])
    pool.used[:] = rng.uniform(size=n_pool) < 0.2
    t = np.full(m, 3.0) if rng.uniform() < 0.5 else rng.choice([2.0, 3.0, 4.0], m)
    xy = rng.uniform(-3000, 3000, (m, 2))
    sig = rng.uniform(20, 200, m)
    Rxy = np.zeros((m, 2, 2))
    Rxy[:, 0, 0] = Rxy[:, 1, 1] = sig**2
    icao = rng.choice(addr, m).astype(np.int32)
    vmax, max_dt = 300.0, 2.5
    pi, ni = two_point_pairs(pool, t, icao, xy, Rxy, vmax, max_dt)
    got = dict(zip(ni.tolist(), pi.tolist(), strict=True))
    assert len(got) == len(ni)                            # one partner per new report
    assert got == brute_force_two_point(pool, t, icao, xy, Rxy, vmax, max_dt)


def test_pool_stays_in_time_order_when_late_reports_arrive() -> None:
    pool = InitiationPool.empty()
    for t in ([5.0, 6.0], [3.0], [7.0, 2.0], [6.5]):
        b = MeasurementBatch.cartesian(t, np.zeros((len(t), 2)), 50.0)
        pool = pool.add(b, b.z[:, :2], b.R[:, :2, :2])
    assert pool.reports.t_s.tolist() == [2.0, 3.0, 5.0, 6.0, 6.5, 7.0]
    assert pool.since(4.0).reports.t_s.tolist() == [5.0, 6.0, 6.5, 7.0]


def test_two_point_state_is_finite_difference() -> None:
    zi = np.array([[0.0, 0.0]])
    zj = np.array([[200.0, -100.0]])
    R = np.array([[[100.0**2, 0.0], [0.0, 100.0**2]]])
    x, P = two_point_state(zi, R, zj, R, np.array([2.0]), 2)
    assert np.allclose(x, [[200.0, -100.0, 100.0, -50.0]])
    assert np.allclose(P[0, 2:, 2:], 2 * R[0] / 4.0)     # P_vv = (R_i + R_j)/Δt²
    assert np.allclose(P[0, :2, 2:], R[0] / 2.0)          # P_pv = R_j/Δt
    np.linalg.cholesky(P[0])


# -- fast paths: dense assignment, pair searches, identity-aware candidates -------------------


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(1, 12), st.integers(1, 14),
       st.floats(0.05, 0.9))
def test_small_dense_assignment_equals_scipys_sparse_solver(seed: int, nt: int, nr: int,
                                                            density: float) -> None:
    import skyfuse.track.associate.gnn as gnn

    rng = np.random.default_rng(seed)
    t, r = np.nonzero(rng.random((nt, nr)) < density)
    if len(t) == 0:
        return
    cost = rng.normal(0, 10 ** rng.uniform(-1, 3), len(t))
    fast = gnn_assign(t, r, cost, nt, nr)                 # nt ≤ SMALL_TRACKS: dense solver
    assert nt <= gnn.SMALL_TRACKS
    old, gnn.SMALL_TRACKS = gnn.SMALL_TRACKS, -1          # force scipy's LAPJVsp
    try:
        sparse = gnn_assign(t, r, cost, nt, nr)
    finally:
        gnn.SMALL_TRACKS = old
    np.testing.assert_array_equal(fast, sparse)


def brute_force_pairs(q: np.ndarray, r: np.ndarray, p: np.ndarray) -> list[tuple[int, int]]:
    d2 = ((q[:, None, :] - p[None, :, :]) ** 2).sum(-1)
    return [(i, j) for i in range(len(q)) for j in range(len(p)) if d2[i, j] <= r[i] ** 2]


@pytest.mark.parametrize("case", ["dense", "strip", "grid"])
def test_each_pair_search_equals_brute_force(case: str, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    import skyfuse.track.associate.gating as gating

    calls = {"strip": 0}
    strips = gating._pairs_in_strips

    def spy(*a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        calls["strip"] += 1
        return strips(*a)

    monkeypatch.setattr(gating, "_pairs_in_strips", spy)
    rng = np.random.default_rng({"dense": 1, "strip": 2, "grid": 3}[case])
    for _ in range(20):
        nq, n = (int(rng.integers(1, 40)), int(rng.integers(1, 60))) if case == "dense" \
            else (int(rng.integers(100, 300)), int(rng.integers(100, 400)))
        q = rng.uniform(-1e5, 1e5, (nq, 2))
        p = rng.uniform(-1e5, 1e5, (n, 2))
        p[: n // 3] = np.round(p[: n // 3] / 5000) * 5000  # repeated and grid-aligned points
        q[: nq // 4] = p[rng.integers(0, n, nq // 4)]     # queries on points
        scale = {"dense": 20000.0, "strip": 300.0, "grid": 20000.0}[case]
        r = rng.uniform(0, scale, nq)
        qi, pi = pairs_within(q, r, p)
        assert list(zip(qi.tolist(), pi.tolist(), strict=True)) == brute_force_pairs(q, r, p)
    if case == "strip":
        assert calls["strip"] == 20
    else:
        assert calls["strip"] == 0


def test_pair_search_skips_non_finite_points_and_queries() -> None:
    q = np.array([[0.0, 0.0], [np.nan, 0.0], [10.0, 10.0], [0.0, 0.0]])
    p = np.array([[1.0, 1.0], [np.inf, 0.0], [10.0, 11.0], [np.nan, np.nan]])
    r = np.array([5.0, 5.0, 2.0, np.inf])
    qi, pi = pairs_within(q, r, p)
    assert list(zip(qi.tolist(), pi.tolist(), strict=True)) == [(0, 0), (2, 2), (3, 0), (3, 2)]
    qi, pi = pairs_within(q, np.nan, p)
    assert len(qi) == 0


def test_identity_aware_candidates_equal_all_pairs_less_address_conflicts() -> None:
    """The tracker asks the spatial index only what can survive the address rules: the
    result must be the full candidate set ∪ same-address pairs, less conflicting pairs."""
    from skyfuse.track.tracker import Tracker

    rng = np.random.default_rng(8)
    for _ in range(30):
        k, m = int(rng.integers(0, 40)), int(rng.integers(1, 50))
        pos = rng.uniform(0, 20000, (k, 2))
        radius = rng.uniform(0, 4000, k)
        xy = rng.uniform(0, 20000, (m, 2))
        addr = np.array([-1, 0x100, 0x200, 0x300, 0x400])
        t_icao = rng.choice(addr, k).astype(np.int32)
        r_icao = rng.choice(addr, m).astype(np.int32)
        t, r = Tracker()._kinematic_candidates(pos, radius, xy, t_icao, r_icao)
        got = list(zip(t.tolist(), r.tolist(), strict=True))
        near = set(zip(*candidate_pairs(pos, radius, xy), strict=True)) if k else set()
        same = set(zip(*address_pairs(t_icao, r_icao), strict=True))
        want = sorted((int(i), int(j)) for i, j in near | same
                      if not address_conflict(t_icao[i], r_icao[j]))
        assert got == want
    # every subset searched, nothing found (tracks with and without addresses, far away)
    t, r = Tracker()._kinematic_candidates(np.array([[0.0, 0.0], [1.0, 0.0]]),
                                           np.array([1.0, 1.0]), np.array([[9e4, 9e4]] * 2),
                                           np.array([-1, 0x100], np.int32),
                                           np.array([-1, 0x200], np.int32))
    assert len(t) == len(r) == 0
