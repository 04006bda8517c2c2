"""The batched Kalman filter against a plain textbook reference, its statistical consistency
(NEES/NIS), covariance health under any update, and the debiased polar conversion."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from skyfuse.measure.batch import MeasKind
from skyfuse.track.filters.base import ReportRows
from skyfuse.track.filters.kalman import linear_innovation
from skyfuse.track.filters.kf import KalmanFilter
from skyfuse.track.models.measurement import linearise, polar_to_cartesian
from skyfuse.track.models.motion import ConstantVelocity

# -- a scalar textbook reference: lists of floats, one track at a time ---------------------


def mm(A: list[list[float]], B: list[list[float]]) -> list[list[float]]:
    return [[sum(A[i][k] * B[k][j] for k in range(len(B))) for j in range(len(B[0]))]
            for i in range(len(A))]


def tr(A: list[list[float]]) -> list[list[float]]:
    return [list(row) for row in zip(*A, strict=True)]


def add(A: list[list[float]], B: list[list[float]], sign: float = 1.0) -> list[list[float]]:
    return [[a + sign * b for a, b in zip(ra, rb, strict=True)] for ra, rb in zip(A, B,
                                                                                  strict=True)]


def eye(n: int) -> list[list[float]]:
    return [[1.0 if i == j else 0.0 for j in range(n)] for i in range(n)]


def inv_det(A: list[list[float]]) -> tuple[list[list[float]], float]:
    """Gauss-Jordan inverse with partial pivoting, and the determinant."""
    n = len(A)
    M = [list(A[i]) + eye(n)[i] for i in range(n)]
    det = 1.0
    for c in range(n):
        p = max(range(c, n), key=lambda i: abs(M[i][c]))
        if p != c:
            M[c], M[p] = M[p], M[c]
            det = -det
        det *= M[c][c]
        piv = M[c][c]
        M[c] = [v / piv for v in M[c]]
        for i in range(n):
            if i != c:
                f = M[i][c]
                M[i] = [a - f * b for a, b in zip(M[i], M[c], strict=True)]
    return [row[n:] for row in M], det


def ref_predict(x: list[float], P: list[list[float]], dt: float, q: float, d: int
                ) -> tuple[list[float], list[list[float]]]:
    n = 2 * d
    F = eye(n)
    Q = [[0.0] * n for _ in range(n)]
    for i in range(d):
        F[i][d + i] = dt
        Q[i][i] = q * dt**3 / 3
        Q[i][d + i] = Q[d + i][i] = q * dt**2 / 2
        Q[d + i][d + i] = q * dt
    xp = [sum(F[i][j] * x[j] for j in range(n)) for i in range(n)]
    Pp = add(mm(mm(F, P), tr(F)), Q)
    return xp, Pp


def ref_update(x: list[float], P: list[list[float]], nu: list[float], H: list[list[float]],
               R: list[list[float]]) -> tuple[list[float], list[list[float]], float]:
    n, m = len(x), len(nu)
    S = add(mm(mm(H, P), tr(H)), R)
    Si, detS = inv_det(S)
    K = mm(mm(P, tr(H)), Si)
    xn = [x[i] + sum(K[i][j] * nu[j] for j in range(m)) for i in range(n)]
    IKH = add(eye(n), mm(K, H), -1.0)
    Pn = add(mm(mm(IKH, P), tr(IKH)), mm(mm(K, R), tr(K)))        # Joseph form
    d2 = sum(nu[i] * Si[i][j] * nu[j] for i in range(m) for j in range(m))
    ll = -0.5 * (d2 + math.log(detS) + m * math.log(2 * math.pi))
    return xn, Pn, ll


def ref_cartesian(x: list[float], P: list[list[float]], z: list[float], R: list[list[float]]
                  ) -> tuple[list[float], list[list[float]], float]:
    m, n = len(z), len(x)
    H = [[1.0 if j == i else 0.0 for j in range(n)] for i in range(m)]
    return ref_update(x, P, [z[i] - x[i] for i in range(m)], H, R)


def ref_polar(x: list[float], P: list[list[float]], z: list[float], R: list[list[float]],
              o: list[float]) -> tuple[list[float], list[list[float]], float]:
    n = len(x)
    dx, dy = x[0] - o[0], x[1] - o[1]
    r = math.sqrt(dx * dx + dy * dy)
    az = math.atan2(dx, dy)
    dr = z[0] - r
    da = z[1] - az
    while da > math.pi:
        da -= 2 * math.pi
    while da <= -math.pi:
        da += 2 * math.pi
    H = [[0.0] * n for _ in range(2)]
    H[0][0], H[0][1] = dx / r, dy / r
    H[1][0], H[1][1] = dy / r**2, -dx / r**2
    return ref_update(x, P, [dr, da], H, R)


# -- helpers --------------------------------------------------------------------------------


def random_spd(rng: np.random.Generator, k: int, n: int, stds: np.ndarray) -> np.ndarray:
    """SPD matrices with given marginal standard deviations and random correlations."""
    A = rng.normal(size=(k, n, n))
    C = A @ np.swapaxes(A, 1, 2) + n * np.eye(n)
    dg = np.sqrt(np.einsum("kii->ki", C))
    C = C / dg[:, :, None] / dg[:, None, :]
    return C * stds[:, :, None] * stds[:, None, :]


def assert_spd(P: np.ndarray) -> None:
    assert np.array_equal(P, np.swapaxes(P, -1, -2)), "not symmetric"
    assert np.all(np.isfinite(P))
    np.linalg.cholesky(P)                       # raises LinAlgError unless positive definite


def close(a: np.ndarray, b: np.ndarray) -> None:
    scale = np.maximum(1.0, np.abs(b))
    assert np.max(np.abs(a - b) / scale) < 1e-9


# -- batched KF == scalar reference ---------------------------------------------------------


@pytest.mark.parametrize(("d", "kind"), [(2, MeasKind.CARTESIAN_2D), (3, MeasKind.CARTESIAN_3D),
                                         (2, MeasKind.POLAR), (3, MeasKind.POLAR)])
def test_batched_kf_equals_scalar_reference(d: int, kind: MeasKind) -> None:
    rng = np.random.default_rng(10 + d + 7 * int(kind))
    k, n, q = 40, 2 * d, 2.5
    kf = KalmanFilter(ConstantVelocity(q, d))
    x = np.concatenate([rng.uniform(-1e5, 1e5, (k, d)), rng.uniform(-300, 300, (k, d))], 1)
    P = random_spd(rng, k, n, np.concatenate([rng.uniform(10, 3e3, (k, d)),
                                              rng.uniform(1, 100, (k, d))], 1))
    state = kf.initial(x, P)
    origin = np.zeros((k, 3))
    origin[:, :2] = rng.uniform(-5e4, 5e4, (k, 2))
    for _ in range(5):
        dt = rng.uniform(0.0, 40.0, k)
        state = kf.predict(state, dt)
        ref = [ref_predict(list(xs), [list(r) for r in Ps], float(t), q, d)
               for xs, Ps, t in zip(x, P, dt, strict=True)]
        close(state.xm[:, 0], np.array([r[0] for r in ref]))
        close(state.Pm[:, 0], np.array([r[1] for r in ref]))
        xp = state.xm[:, 0]
        z = np.full((k, 3), np.nan)
        R = np.zeros((k, 3, 3))
        if kind == MeasKind.POLAR:
            dxy = xp[:, :2] - origin[:, :2]
            z[:, 0] = np.hypot(dxy[:, 0], dxy[:, 1]) + rng.normal(0, 50, k)
            z[:, 1] = np.arctan2(dxy[:, 0], dxy[:, 1]) + rng.normal(0, 0.01, k)
            z[:, 1] = np.mod(z[:, 1], 2 * np.pi)     # radars report 0..2π: exercises wrapping
            R[:, :2, :2] = random_spd(rng, k, 2, np.stack([rng.uniform(10, 100, k),
                                                           rng.uniform(1e-3, 2e-2, k)], 1))
        else:
            m = 3 if kind == MeasKind.CARTESIAN_3D else 2
            z[:, :m] = xp[:, :m] + rng.normal(0, 80, (k, m))
            R[:, :m, :m] = random_spd(rng, k, m, rng.uniform(5, 200, (k, m)))
        state, ll = kf.update(state, ReportRows(int(kind), z, R, origin))
        ref_u = []
        for i in range(k):
            xs, Ps = ref[i]                             # the reference's own prediction
            if kind == MeasKind.POLAR:
                ref_u.append(ref_polar(xs, Ps, list(z[i, :2]),
                                       [list(r) for r in R[i, :2, :2]], list(origin[i])))
            else:
                m = 3 if kind == MeasKind.CARTESIAN_3D else 2
                ref_u.append(ref_cartesian(xs, Ps, list(z[i, :m]),
                                           [list(r) for r in R[i, :m, :m]]))
        close(state.xm[:, 0], np.array([r[0] for r in ref_u]))
        close(state.Pm[:, 0], np.array([r[1] for r in ref_u]))
        close(ll, np.array([r[2] for r in ref_u]))
        x, P = state.xm[:, 0], state.Pm[:, 0]


def test_joseph_form_equals_short_form_for_the_optimal_gain() -> None:
    rng = np.random.default_rng(3)
    k, n = 100, 4
    P = random_spd(rng, k, n, rng.uniform(1, 1e3, (k, n)))
    x = rng.normal(size=(k, n))
    z = np.zeros((k, 3))
    z[:, :2] = rng.normal(size=(k, 2))
    R = np.zeros((k, 3, 3))
    R[:, :2, :2] = random_spd(rng, k, 2, rng.uniform(1, 100, (k, 2)))
    kf = KalmanFilter()
    post, _ = kf.update(kf.initial(x, P), ReportRows(MeasKind.CARTESIAN_2D, z, R, np.zeros((k, 3))))
    H = np.zeros((k, 2, n))
    H[:, :, :2] = np.eye(2)
    S = H @ P @ np.swapaxes(H, 1, 2) + R[:, :2, :2]
    K = P @ np.swapaxes(H, 1, 2) @ np.linalg.inv(S)
    P_short = (np.eye(n) - K @ H) @ P                      # (I − K H) P
    close(post.Pm[:, 0], P_short)


# -- statistical consistency: NEES and NIS over Monte Carlo runs ----------------------------


def run_ncv_monte_carlo(q_filter: float, n_runs: int = 200, n_steps: int = 60
                        ) -> tuple[np.ndarray, np.ndarray]:
    """Average NEES and NIS per step over ``n_runs`` NCV truths (q = 1, σ = 30 m), batched."""
    rng = np.random.default_rng(2024)
    q_true, sigma = 1.0, 30.0
    truth_model = ConstantVelocity(q_true, 2)
    kf = KalmanFilter(ConstantVelocity(q_filter, 2))
    x_true = np.concatenate([rng.uniform(-5e4, 5e4, (n_runs, 2)),
                             rng.normal(0, 150, (n_runs, 2))], 1)
    P0 = np.diag([100.0**2, 100.0**2, 20.0**2, 20.0**2])
    x0 = x_true + rng.multivariate_normal(np.zeros(4), P0, n_runs)   # consistent start
    state = kf.initial(x0, np.broadcast_to(P0, (n_runs, 4, 4)).copy())
    R = np.zeros((n_runs, 3, 3))
    R[:, 0, 0] = R[:, 1, 1] = sigma**2
    nees, nis = [], []
    for _ in range(n_steps):
        dt = rng.uniform(1.0, 8.0, n_runs)                  # a different dt in every row
        Lq = np.linalg.cholesky(truth_model.Q(dt))
        x_true = (np.einsum("kij,kj->ki", truth_model.F(dt), x_true)
                  + np.einsum("kij,kj->ki", Lq, rng.normal(size=(n_runs, 4))))
        z = np.full((n_runs, 3), np.nan)
        z[:, :2] = x_true[:, :2] + rng.normal(0, sigma, (n_runs, 2))
        state = kf.predict(state, dt)
        rows = ReportRows(MeasKind.CARTESIAN_2D, z, R, np.zeros((n_runs, 3)))
        nu, H, Rm = linearise(rows.kind, z, R, rows.origin_m, state.xm[:, 0], 2)
        nis.append(linear_innovation(nu, state.Pm[:, 0], H, Rm).d2.mean())
        state, _ = kf.update(state, rows)
        e = x_true - state.xm[:, 0]
        nees.append(np.einsum("ki,kij,kj->k", e, np.linalg.inv(state.Pm[:, 0]), e).mean())
    return np.array(nees), np.array(nis)


def chi2_band(dof: int, n_runs: int) -> tuple[float, float]:
    """Two-sided 95 % bounds on the average of ``n_runs`` χ²(dof) values."""
    lo, hi = chi2.ppf([0.025, 0.975], dof * n_runs)
    return lo / n_runs, hi / n_runs


def test_cv_filter_is_consistent_nees_and_nis() -> None:
    n_runs = 200
    nees, nis = run_ncv_monte_carlo(q_filter=1.0, n_runs=n_runs)
    lo4, hi4 = chi2_band(4, n_runs)                         # ≈ [3.73, 4.28]
    lo2, hi2 = chi2_band(2, n_runs)                         # ≈ [1.73, 2.29]
    in_nees = np.mean((nees > lo4) & (nees < hi4))
    in_nis = np.mean((nis > lo2) & (nis < hi2))
    # 95 % bands: about 3 of 60 steps fall outside by chance
    assert in_nees >= 0.88, (in_nees, nees.mean())
    assert in_nis >= 0.88, (in_nis, nis.mean())
    assert abs(nees.mean() - 4.0) < 0.15 and abs(nis.mean() - 2.0) < 0.1


def test_nees_detects_a_mistuned_filter() -> None:
    nees, _ = run_ncv_monte_carlo(q_filter=1.0 / 30.0, n_runs=200, n_steps=30)
    _, hi4 = chi2_band(4, 200)
    assert np.mean(nees[5:] > hi4) > 0.9                    # overconfident: NEES far too high


# -- covariances stay symmetric positive definite after any update -------------------------

@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    log_pos_std=st.floats(0.0, 5.0),          # 1 m .. 100 km
    log_vel_std=st.floats(-1.0, 3.0),         # 0.1 .. 1000 m/s
    log_sigma=st.floats(-2.0, 5.0),           # 1 cm .. 100 km (Cartesian noise)
    log_range=st.floats(1.0, 5.7),            # 10 m .. 500 km from the radar
    log_sigma_az=st.floats(-5.0, -1.0),       # 1e-5 .. 0.1 rad
    dt=st.floats(0.0, 600.0),
    polar=st.booleans(),
    d=st.sampled_from([2, 3]),
)
def test_covariance_stays_spd_after_any_update(
    seed: int, log_pos_std: float, log_vel_std: float, log_sigma: float, log_range: float,
    log_sigma_az: float, dt: float, polar: bool, d: int,
) -> None:
    rng = np.random.default_rng(seed)
    k, n = 8, 2 * d
    kf = KalmanFilter(ConstantVelocity(1.0, d))
    stds = np.concatenate([np.full((k, d), 10**log_pos_std), np.full((k, d), 10**log_vel_std)],
                          1) * rng.uniform(0.5, 2.0, (k, n))
    P = random_spd(rng, k, n, stds)
    bearing = rng.uniform(0, 2 * np.pi, k)
    rng_m = 10**log_range
    x = np.zeros((k, n))
    x[:, 0], x[:, 1] = rng_m * np.sin(bearing), rng_m * np.cos(bearing)
    x[:, d:] = rng.normal(0, 200, (k, d))
    state = kf.predict(kf.initial(x, P), np.full(k, dt))
    assert_spd(state.Pm[:, 0])
    z = np.full((k, 3), np.nan)
    R = np.zeros((k, 3, 3))
    origin = np.zeros((k, 3))
    xp = state.xm[:, 0]
    if polar:
        sr, sa = 10**log_sigma * 0.01 + 1.0, 10**log_sigma_az
        z[:, 0] = np.abs(np.hypot(xp[:, 0], xp[:, 1]) + rng.normal(0, sr, k))
        z[:, 1] = np.arctan2(xp[:, 0], xp[:, 1]) + rng.normal(0, sa, k)
        R[:, 0, 0], R[:, 1, 1] = sr**2, sa**2
        kind = MeasKind.POLAR
    else:
        s = 10**log_sigma
        z[:, :d] = xp[:, :d] + rng.normal(0, s, (k, d))
        R[:, :d, :d] = random_spd(rng, k, d, np.full((k, d), s))
        kind = MeasKind.CARTESIAN_3D if d == 3 else MeasKind.CARTESIAN_2D
    post, ll = kf.update(state, ReportRows(int(kind), z, R, origin))
    assert_spd(post.Pm[:, 0])
    assert np.all(np.isfinite(post.xm)) and np.all(np.isfinite(ll))


# -- debiased polar conversion --------------------------------------------------------------


def test_debiased_polar_conversion_is_unbiased() -> None:
    rng = np.random.default_rng(7)
    n = 400_000
    r0, a0 = 200e3, np.deg2rad(35.0)
    s_r, s_a = 30.0, np.deg2rad(1.0)
    origin = np.tile([1000.0, -2000.0, 0.0], (n, 1))
    truth = origin[0, :2] + r0 * np.array([np.sin(a0), np.cos(a0)])
    r = r0 + rng.normal(0, s_r, n)
    a = a0 + rng.normal(0, s_a, n)
    xy, R = polar_to_cartesian(r, a, np.full(n, s_r**2), np.full(n, s_a**2), origin)
    plain = origin[:, :2] + np.stack([r * np.sin(a), r * np.cos(a)], 1)
    u_rad = np.array([np.sin(a0), np.cos(a0)])              # radial unit vector
    u_crs = np.array([np.cos(a0), -np.sin(a0)])             # cross-range unit vector
    err_d, err_p = xy - truth, plain - truth
    se_rad = err_d @ u_rad
    se = se_rad.std() / np.sqrt(n)                          # ≈ 0.08 m
    bias_expected = -r0 * (1 - np.exp(-s_a**2 / 2))        # ≈ −30.5 m for the plain one
    assert abs(se_rad.mean()) < 4 * se
    assert abs((err_p @ u_rad).mean() - bias_expected) < 4 * se
    assert abs((err_p @ u_rad).mean()) > 100 * se           # the plain conversion is biased
    assert abs((err_d @ u_crs).mean()) < 4 * (err_d @ u_crs).std() / np.sqrt(n)
    # the stated covariance is consistent: E[eᵀ R⁻¹ e] = 2 (it is not Gaussian, so a tolerance
    # rather than a χ² band), where the linearised covariance J diag(σr², σa²) Jᵀ is not
    nees = np.einsum("ki,kij,kj->k", err_d, np.linalg.inv(R), err_d).mean()
    assert abs(nees - 2.0) < 0.02, nees
    J = np.stack([np.stack([np.sin(a), r * np.cos(a)], -1),
                  np.stack([np.cos(a), -r * np.sin(a)], -1)], -2)
    R_lin = J @ np.diag([s_r**2, s_a**2]) @ np.swapaxes(J, 1, 2)
    nees_lin = np.einsum("ki,kij,kj->k", err_p, np.linalg.inv(R_lin), err_p).mean()
    assert nees_lin > 4.0, nees_lin                         # ≈ 8: inconsistent at 200 km, 1°


def test_joseph_form_stays_spd_for_a_suboptimal_gain() -> None:
    """The reason for the Joseph form: P+ stays SPD for any gain (here S⁻¹ scaled by 3, a gain
    far from optimal), where the short form (I − K H) P goes indefinite."""
    from skyfuse.track.filters.kalman import kf_update

    rng = np.random.default_rng(5)
    k, n = 200, 4
    P = random_spd(rng, k, n, rng.uniform(1, 1e3, (k, n)))
    x = rng.normal(size=(k, n))
    H = np.zeros((k, 2, n))
    H[:, :, :2] = np.eye(2)
    R = random_spd(rng, k, 2, rng.uniform(0.1, 10, (k, 2)))
    inn = linear_innovation(rng.normal(size=(k, 2)), P, H, R)
    bad = inn._replace(S_inv=3.0 * inn.S_inv)
    _, P_joseph = kf_update(x, P, H, R, bad)
    assert_spd(P_joseph)
    K = P @ np.swapaxes(H, 1, 2) @ bad.S_inv
    P_short = (np.eye(n) - K @ H) @ P
    P_short = 0.5 * (P_short + np.swapaxes(P_short, 1, 2))
    assert np.linalg.eigvalsh(P_short).min() < 0.0


def test_linearise_position_model_is_a_read_only_shared_stack() -> None:
    from skyfuse.track.models import measurement
    from skyfuse.track.models.measurement import position_H

    assert (measurement._POLAR, measurement._CARTESIAN_3D) == (MeasKind.POLAR,
                                                                MeasKind.CARTESIAN_3D)
    x = np.random.default_rng(0).normal(size=(70, 6))
    z = np.zeros((70, 3))
    R = np.tile(np.eye(3), (70, 1, 1))
    for kind, d, m in ((MeasKind.CARTESIAN_2D, 2, 2), (MeasKind.CARTESIAN_3D, 3, 3),
                       (MeasKind.CARTESIAN_3D, 2, 2)):
        n = 2 * d
        nu, H, Rm = linearise(int(kind), z, R, z, x[:, :n], d)
        np.testing.assert_array_equal(Rm, R[:, :m, :m])
        np.testing.assert_array_equal(H, position_H(70, m, n))
        np.testing.assert_array_equal(nu, -x[:, :m])
        assert H.shape == (70, m, n) and not H.flags.writeable
