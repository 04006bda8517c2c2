"""JPDA marginals for one cluster (exact and loopy belief propagation) and the PDA update."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from skyfuse.measure.batch import MeasKind
from skyfuse.track.associate.jpda import (
    _log_ratios,
    jpda_exact,
    jpda_lbp,
    jpda_marginals,
    pda_combine,
    pda_update,
)
from skyfuse.track.filters.base import ReportRows
from skyfuse.track.filters.imm import imm_cv_ct
from skyfuse.track.filters.kf import KalmanFilter

PD, PG, LAM = 0.9, 0.99, 1e-6


def track_sums(nt: int, pair_track: np.ndarray, beta: np.ndarray, beta0: np.ndarray
               ) -> np.ndarray:
    s = beta0.copy()
    np.add.at(s, pair_track, beta)
    return s


def random_cluster(rng: np.random.Generator, max_t: int = 4, max_m: int = 4, density: float = 0.6
                   ) -> tuple[int, int, np.ndarray, np.ndarray, np.ndarray]:
    nt, nm = int(rng.integers(1, max_t + 1)), int(rng.integers(1, max_m + 1))
    t, m = np.nonzero(rng.random((nt, nm)) < density)
    return nt, nm, t, m, rng.normal(-12.0, 2.0, len(t))


def test_exact_two_by_two_matches_the_hand_formula() -> None:
    pair_t, pair_m = np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1])
    ll = np.array([-11.0, -13.5, -12.2, -10.4])                 # log N(ν;0,S) of t0m0 t0m1 ...
    g11, g12, g21, g22 = PD * np.exp(ll) / LAM                  # g = Pd N / λ
    m0 = 1.0 - PD * PG                                          # an undetected track
    events = {                                                  # all 7 feasible events
        "--": m0 * m0, "1-": g11 * m0, "2-": g12 * m0, "-1": m0 * g21, "-2": m0 * g22,
        "12": g11 * g22, "21": g12 * g21,
    }
    c = sum(events.values())
    b11 = (events["1-"] + events["12"]) / c
    b12 = (events["2-"] + events["21"]) / c
    b21 = (events["-1"] + events["21"]) / c
    b22 = (events["-2"] + events["12"]) / c
    b10 = (events["--"] + events["-1"] + events["-2"]) / c
    b20 = (events["--"] + events["1-"] + events["2-"]) / c
    beta, beta0 = jpda_marginals(2, 2, pair_t, pair_m, ll, PD, PG, LAM)
    np.testing.assert_allclose(beta, [b11, b12, b21, b22], rtol=1e-12)
    np.testing.assert_allclose(beta0, [b10, b20], rtol=1e-12)
    np.testing.assert_allclose(track_sums(2, pair_t, beta, beta0), 1.0, rtol=1e-12)


def test_one_track_is_the_pdaf() -> None:
    """Bar-Shalom's PDAF: β_j = e_j / (b + Σ e), β0 = b / (b + Σ e) with
    e_j = exp(−d_j²/2), b = λ |2πS|^½ (1 − Pd Pg) / Pd."""
    rng = np.random.default_rng(0)
    S = np.array([[900.0, 200.0], [200.0, 400.0]])
    nu = rng.normal(0, 30, (5, 2))
    d2 = np.einsum("ki,ij,kj->k", nu, np.linalg.inv(S), nu)
    ll = -0.5 * d2 - 0.5 * np.log(np.linalg.det(2 * np.pi * S))
    e = np.exp(-0.5 * d2)
    b = LAM * np.sqrt(np.linalg.det(2 * np.pi * S)) * (1 - PD * PG) / PD
    pt, pm = np.zeros(5, np.intp), np.arange(5)
    beta, beta0 = jpda_marginals(1, 5, pt, pm, ll, PD, PG, LAM)
    np.testing.assert_allclose(beta, e / (b + e.sum()), rtol=1e-12)
    np.testing.assert_allclose(beta0, [b / (b + e.sum())], rtol=1e-12)
    lg, lm = _log_ratios(ll, PD, PG, LAM)
    bl, bl0 = jpda_lbp(1, 5, pt, pm, lg, lm)                     # a tree: BP is exact
    np.testing.assert_allclose(bl, beta, rtol=1e-10)
    np.testing.assert_allclose(bl0, beta0, rtol=1e-10)


def test_marginals_are_probabilities_and_reports_are_used_once() -> None:
    rng = np.random.default_rng(1)
    for _ in range(200):
        nt, nm, t, m, ll = random_cluster(rng)
        lg, lm = _log_ratios(ll, PD, PG, LAM)
        for beta, beta0 in (jpda_exact(nt, nm, t, m, lg, lm), jpda_lbp(nt, nm, t, m, lg, lm)):
            np.testing.assert_allclose(track_sums(nt, t, beta, beta0), 1.0, atol=1e-12)
            assert np.all(beta >= 0) and np.all(beta0 > 0)
            per_report = np.bincount(m, weights=beta, minlength=nm)
            assert np.all(per_report <= 1.0 + 1e-12)


def test_exact_is_invariant_to_the_order_of_tracks_reports_and_pairs() -> None:
    rng = np.random.default_rng(2)
    for _ in range(50):
        nt, nm, t, m, ll = random_cluster(rng)
        beta, beta0 = jpda_marginals(nt, nm, t, m, ll, PD, PG, LAM)
        pt, pmr, pp = rng.permutation(nt), rng.permutation(nm), rng.permutation(len(t))
        b2, b02 = jpda_marginals(nt, nm, pt[t][pp], pmr[m][pp], ll[pp], PD, PG, LAM)
        np.testing.assert_allclose(b2, beta[pp], atol=1e-12)
        np.testing.assert_allclose(b02[pt], beta0, atol=1e-12)


def test_belief_propagation_is_exact_on_a_tree_and_close_on_loops() -> None:
    rng = np.random.default_rng(3)
    # a chain t0-m0-t1-m1-…-m9 (a tree): (i, i) and (i, i−1); 2·3⁹ > 20 000: BP is used
    nt = nm = 10
    t = np.array([0] + [i for i in range(1, nt) for _ in (0, 1)])
    m = np.array([0] + [j for i in range(1, nt) for j in (i - 1, i)])
    ll = rng.normal(-12, 2, len(t))
    approx = jpda_marginals(nt, nm, t, m, ll, PD, PG, LAM)
    exact = jpda_marginals(nt, nm, t, m, ll, PD, PG, LAM, max_exact_events=10**6)
    np.testing.assert_allclose(approx[0], exact[0], atol=1e-9)
    np.testing.assert_allclose(approx[1], exact[1], atol=1e-9)
    # random clusters with loops: close, not exact (numbers in the jpda module docstring)
    for mean_ll, mean_tol, max_tol in [(-16.0, 0.005, 0.15), (-12.0, 0.02, 0.5)]:
        errs = []
        for _ in range(300):
            nt, nm, t, m, ll = random_cluster(rng)
            lg, lm = _log_ratios(ll + (mean_ll + 12.0), PD, PG, LAM)
            be, be0 = jpda_exact(nt, nm, t, m, lg, lm)
            bl, bl0 = jpda_lbp(nt, nm, t, m, lg, lm)
            errs.append(max(np.abs(be - bl).max(initial=0.0), np.abs(be0 - bl0).max()))
        assert np.mean(errs) < mean_tol and np.max(errs) < max_tol, (np.mean(errs), max(errs))


def test_marginals_survive_extreme_likelihoods() -> None:
    t, m = np.array([0, 0, 1, 1, 2]), np.array([0, 1, 0, 1, 1])
    ll = np.array([-1e4, 300.0, 500.0, -50.0, 800.0])
    for cap in (20_000, 1):                                       # exact, and BP
        beta, beta0 = jpda_marginals(3, 2, t, m, ll, PD, PG, LAM, max_exact_events=cap)
        assert np.all(np.isfinite(beta)) and np.all(np.isfinite(beta0))
        np.testing.assert_allclose(track_sums(3, t, beta, beta0), 1.0, atol=1e-9)


def test_bad_inputs_are_refused() -> None:
    t, m = np.array([0]), np.array([0])
    with pytest.raises(ValueError):
        jpda_marginals(1, 1, t, m, np.zeros(1), 1.0, 1.0, LAM)   # Pd Pg = 1
    with pytest.raises(ValueError):
        jpda_marginals(1, 1, t, m, np.zeros(1), PD, PG, 0.0)
    with pytest.raises(ValueError):
        jpda_marginals(1, 1, np.array([0, 0]), np.array([0, 0]), np.zeros(2), PD, PG, LAM)


# -- PDA update -----------------------------------------------------------------------------


def cluster_state(rng: np.random.Generator, nt: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.concatenate([rng.uniform(-1e4, 1e4, (nt, 2)), rng.normal(0, 100, (nt, 2))], 1)
    A = rng.normal(size=(nt, 4, 4))
    P = A @ np.swapaxes(A, 1, 2) * 50.0 + np.diag([400.0, 400.0, 25.0, 25.0])
    return x, P


def cartesian_rows(z_xy: np.ndarray, sigma: float) -> ReportRows:
    k = len(z_xy)
    z = np.full((k, 3), np.nan)
    z[:, :2] = z_xy
    R = np.zeros((k, 3, 3))
    R[:, 0, 0] = R[:, 1, 1] = sigma**2
    return ReportRows(int(MeasKind.CARTESIAN_2D), z, R, np.zeros((k, 3)))


def test_pda_update_is_bar_shalom_pdaf() -> None:
    rng = np.random.default_rng(4)
    nt, sigma = 3, 25.0
    x, P = cluster_state(rng, nt)
    pair_t = np.array([0, 0, 0, 1, 2, 2])
    z_xy = x[pair_t, :2] + rng.normal(0, 40, (len(pair_t), 2))
    beta = np.array([0.5, 0.2, 0.1, 0.7, 0.45, 0.45])
    beta0 = np.array([0.2, 0.3, 0.1])
    kf = KalmanFilter()
    post = pda_update(kf, kf.initial(x, P), pair_t, cartesian_rows(z_xy, sigma), beta, beta0)
    H = np.zeros((2, 4))
    H[:, :2] = np.eye(2)
    R = np.eye(2) * sigma**2
    for i in range(nt):
        mine = pair_t == i
        S = H @ P[i] @ H.T + R                                  # S = H P Hᵀ + R
        K = P[i] @ H.T @ np.linalg.inv(S)                       # K = P Hᵀ S⁻¹
        nus = z_xy[mine] - x[i, :2]                             # ν_j
        b = beta[mine]
        nu = b @ nus                                            # ν = Σ β_j ν_j
        Pc = P[i] - K @ S @ K.T                                 # Pᶜ = P − K S Kᵀ
        spread = K @ (np.einsum("j,ja,jb->ab", b, nus, nus) - np.outer(nu, nu)) @ K.T
        P_ref = beta0[i] * P[i] + (1 - beta0[i]) * Pc + spread
        np.testing.assert_allclose(post.xm[i, 0], x[i] + K @ nu, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(post.Pm[i, 0], P_ref, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(post.mu, 1.0)


def test_pda_update_limits_for_kf_and_imm() -> None:
    rng = np.random.default_rng(5)
    nt = 4
    x, P = cluster_state(rng, nt)
    for filt in (KalmanFilter(), imm_cv_ct(1.0, 2.0)):
        pred = filt.predict(filt.initial(x, P), np.full(nt, 5.0))
        xc = filt.combine(pred)[0]
        pair_t = np.arange(nt)
        rows = cartesian_rows(xc[:, :2] + rng.normal(0, 30, (nt, 2)), 30.0)
        # β0 = 1: nothing changes
        same = pda_update(filt, pred, pair_t, rows, np.zeros(nt), np.ones(nt))
        for a, b in zip(same, pred, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
        # one certain report: the filter's own update
        upd, _ = filt.update(pred, rows)
        got = pda_update(filt, pred, pair_t, rows, np.ones(nt), np.zeros(nt))
        for a, b in zip(got, upd, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)


def test_pda_combine_of_an_imm_keeps_the_mixture_moments() -> None:
    """Reducing per mode and then combining equals moment-matching the full mixture over
    (hypothesis, mode) pairs: the reduction preserves mean and covariance."""
    rng = np.random.default_rng(6)
    nt = 2
    x, P = cluster_state(rng, nt)
    f = imm_cv_ct(1.0, 3.0)
    pred = f.predict(f.initial(x, P), np.full(nt, 8.0))
    pair_t = np.array([0, 0, 1])
    rows = cartesian_rows(f.combine(pred)[0][pair_t, :2] + rng.normal(0, 60, (3, 2)), 40.0)
    post_pairs, _ = f.update(pred.take(pair_t), rows)
    beta, beta0 = np.array([0.5, 0.3, 0.6]), np.array([0.2, 0.4])
    x_red, P_red = f.combine(pda_combine(pred, pair_t, post_pairs, beta, beta0))
    for i in range(nt):
        comps = [(beta0[i] * pred.mu[i, j], pred.xm[i, j], pred.Pm[i, j]) for j in range(3)]
        for p in np.flatnonzero(pair_t == i):
            comps += [(beta[p] * post_pairs.mu[p, j], post_pairs.xm[p, j], post_pairs.Pm[p, j])
                      for j in range(3)]
        mean = sum(w * xx for w, xx, _ in comps)
        cov = sum(w * (PP + np.outer(xx - mean, xx - mean)) for w, xx, PP in comps)
        np.testing.assert_allclose(x_red[i], mean, rtol=1e-10, atol=1e-9)
        np.testing.assert_allclose(P_red[i], cov, rtol=1e-9, atol=1e-9)


def test_all_feasible_events_are_enumerated() -> None:
    """The number of feasible events of a full nt × nm cluster is Σ_k C(nt,k) C(nm,k) k!."""
    from math import comb, factorial

    for nt, nm in itertools.product(range(1, 5), range(1, 5)):
        t, m = np.nonzero(np.ones((nt, nm), bool))
        _, beta0 = jpda_exact(nt, nm, t, m, np.zeros(len(t)), 0.0)   # all events weigh 1
        n_events = sum(comb(nt, k) * comb(nm, k) * factorial(k) for k in range(min(nt, nm) + 1))
        # with equal weights, β0 of a track = events leaving it out / all events
        left_out = sum(comb(nt - 1, k) * comb(nm, k) * factorial(k)
                       for k in range(min(nt - 1, nm) + 1))
        np.testing.assert_allclose(beta0, left_out / n_events, rtol=1e-12)
