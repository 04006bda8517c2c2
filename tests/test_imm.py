"""The IMM filter: mode transitions over arbitrary dt, equivalence with the KF, a plain
per-track reference, covariance health, and a manoeuvre it must follow better than CV."""

from __future__ import annotations

import numpy as np
import scipy.linalg
from hypothesis import given, settings
from hypothesis import strategies as st

from skyfuse.measure.batch import MeasKind
from skyfuse.track.filters.base import MixtureState, ReportRows, TrackFilter
from skyfuse.track.filters.imm import IMMFilter, imm_cv_ct, transition_matrix
from skyfuse.track.filters.kf import KalmanFilter
from skyfuse.track.models.measurement import linearise
from skyfuse.track.models.motion import ConstantVelocity, CoordinatedTurn


def random_spd(rng: np.random.Generator, shape: tuple[int, ...], n: int, std: np.ndarray
               ) -> np.ndarray:
    A = rng.normal(size=(*shape, n, n))
    C = A @ np.swapaxes(A, -1, -2) + n * np.eye(n)
    dg = np.sqrt(np.einsum("...ii->...i", C))
    C = C / dg[..., :, None] / dg[..., None, :]
    return C * std[..., :, None] * std[..., None, :]


def assert_spd(P: np.ndarray) -> None:
    assert np.array_equal(P, np.swapaxes(P, -1, -2))
    np.linalg.cholesky(P)


def reports(rng: np.random.Generator, x: np.ndarray, polar: bool, origin_xy: np.ndarray
            ) -> ReportRows:
    """One noisy report per row of states ``x`` (Cartesian 2-D or polar)."""
    k = len(x)
    z = np.full((k, 3), np.nan)
    R = np.zeros((k, 3, 3))
    origin = np.zeros((k, 3))
    origin[:, :2] = origin_xy
    if polar:
        dxy = x[:, :2] - origin_xy
        z[:, 0] = np.hypot(dxy[:, 0], dxy[:, 1]) + rng.normal(0, 40, k)
        z[:, 1] = np.arctan2(dxy[:, 0], dxy[:, 1]) + rng.normal(0, 0.005, k)
        R[:, 0, 0], R[:, 1, 1] = 40.0**2, 0.005**2
        return ReportRows(int(MeasKind.POLAR), z, R, origin)
    z[:, :2] = x[:, :2] + rng.normal(0, 50, (k, 2))
    R[:, 0, 0] = R[:, 1, 1] = 50.0**2
    return ReportRows(int(MeasKind.CARTESIAN_2D), z, R, origin)


# -- mode transitions -----------------------------------------------------------------------


def test_transition_matrix_closed_form_equals_expm() -> None:
    rng = np.random.default_rng(0)
    dt = np.concatenate([[0.0], rng.uniform(0, 500, 30)])
    for r, s in [(2, 0.1), (3, 0.05), (3, 2.0)]:
        G = np.full((r, r), s / (r - 1))
        np.fill_diagonal(G, -s)                                  # leave at rate s
        Pi = transition_matrix(s, r, dt)
        ref = np.stack([scipy.linalg.expm(G * t) for t in dt])
        np.testing.assert_allclose(Pi, ref, atol=1e-12)
        np.testing.assert_allclose(Pi.sum(-1), 1.0, atol=1e-14)
        np.testing.assert_allclose(Pi[0], np.eye(r), atol=1e-15)
        # the equal-rate matrix path gives the same
        np.testing.assert_allclose(transition_matrix(G, r, dt), Pi, atol=1e-12)
    assert np.array_equal(transition_matrix(0.3, 1, dt), np.ones((len(dt), 1, 1)))


def test_transition_matrix_composes_over_time() -> None:
    """Chapman-Kolmogorov: Π(a) Π(b) = Π(a + b), also for unequal rates."""
    rng = np.random.default_rng(1)
    a, b = rng.uniform(0, 60, 20), rng.uniform(0, 60, 20)
    rates = np.array([[0.0, 0.02, 0.03], [0.2, 0.0, 0.05], [0.2, 0.01, 0.0]])
    for spec in (0.07, rates):
        lhs = transition_matrix(spec, 3, a) @ transition_matrix(spec, 3, b)
        np.testing.assert_allclose(lhs, transition_matrix(spec, 3, a + b), atol=1e-12)
    long = transition_matrix(rates, 3, np.array([1e5]))[0]
    np.testing.assert_allclose(long[0], long[2], atol=1e-12)     # forgets the start mode


def test_coordinated_turn_moves_on_the_circle() -> None:
    w = np.deg2rad(3.0)
    ct = CoordinatedTurn(w, 1.0, 2)
    x0 = np.array([1000.0, -500.0, 150.0, 80.0])
    c = x0[:2] + np.array([-x0[3], x0[2]]) / w                  # centre, left of the velocity
    for t in (0.5, 7.0, 60.0, 200.0):
        x = ct.F(np.array([t]))[0] @ x0
        rot = np.array([[np.cos(w * t), -np.sin(w * t)], [np.sin(w * t), np.cos(w * t)]])
        np.testing.assert_allclose(x[:2], c + rot @ (x0[:2] - c), atol=1e-8)
        np.testing.assert_allclose(x[2:], rot @ x0[2:], atol=1e-10)


# -- equivalences ---------------------------------------------------------------------------


def run_pair(f_a: TrackFilter, f_b: TrackFilter, n_steps: int, seed: int,
             compare_modes: bool) -> None:
    rng = np.random.default_rng(seed)
    k = 30
    x = np.concatenate([rng.uniform(-8e4, 8e4, (k, 2)), rng.normal(0, 150, (k, 2))], 1)
    P = random_spd(rng, (k,), 4, np.concatenate([rng.uniform(50, 500, (k, 2)),
                                                 rng.uniform(5, 50, (k, 2))], 1))
    sa, sb = f_a.initial(x, P), f_b.initial(x, P)
    origin = rng.uniform(-1e4, 1e4, (k, 2))
    for step in range(n_steps):
        dt = rng.uniform(0.0, 20.0, k)
        sa, sb = f_a.predict(sa, dt), f_b.predict(sb, dt)
        xa, _ = f_a.combine(sa)
        rep = reports(rng, xa, polar=step % 2 == 1, origin_xy=origin)
        sa, lla = f_a.update(sa, rep)
        sb, llb = f_b.update(sb, rep)
        np.testing.assert_allclose(lla, llb, rtol=1e-9, atol=1e-9)
        (xa, Pa), (xb, Pb) = f_a.combine(sa), f_b.combine(sb)
        np.testing.assert_allclose(xa, xb, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(Pa, Pb, rtol=1e-9, atol=1e-9)
        if compare_modes:
            np.testing.assert_allclose(sa.xm, sb.xm, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(sa.Pm, sb.Pm, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(sa.mu, sb.mu, rtol=1e-9, atol=1e-12)


def test_one_mode_imm_equals_kf() -> None:
    model = ConstantVelocity(3.0, 2)
    run_pair(IMMFilter((model,), 0.2), KalmanFilter(model), n_steps=60, seed=2,
             compare_modes=True)


def test_imm_of_identical_modes_equals_kf() -> None:
    """Mixing identical modes must change nothing: the combined estimate is the KF's."""
    model = ConstantVelocity(3.0, 2)
    run_pair(IMMFilter((model, model, model), 0.1, (0.5, 0.3, 0.2)), KalmanFilter(model),
             n_steps=40, seed=3, compare_modes=False)


def reference_imm_step(models: list, s_rate: float, xm: np.ndarray, Pm: np.ndarray,
                       mu: np.ndarray, dt: float, rep: ReportRows, row: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One track's IMM cycle written out plainly, loops over modes (Blom & Bar-Shalom)."""
    r = len(models)
    e = np.exp(-r * s_rate * dt / (r - 1))
    Pi = np.full((r, r), (1 - e) / r) + np.eye(r) * e            # expm of the equal-rate G
    cbar = [sum(Pi[i, j] * mu[i] for i in range(r)) for j in range(r)]
    x_pred, P_pred = [], []
    for j in range(r):
        w = [Pi[i, j] * mu[i] / cbar[j] for i in range(r)]
        x0 = sum(w[i] * xm[i] for i in range(r))
        P0 = sum(w[i] * (Pm[i] + np.outer(xm[i] - x0, xm[i] - x0)) for i in range(r))
        F = models[j].F(np.array([dt]))[0]
        Q = models[j].Q(np.array([dt]))[0]
        x_pred.append(F @ x0)
        P_pred.append(F @ P0 @ F.T + Q)
    lik, x_new, P_new = [], [], []
    for j in range(r):
        nu, H, R = linearise(rep.kind, rep.z[row:row + 1], rep.R[row:row + 1],
                             rep.origin_m[row:row + 1], x_pred[j][None], 2)
        nu, H, R = nu[0], H[0], R[0]
        S = H @ P_pred[j] @ H.T + R
        K = P_pred[j] @ H.T @ np.linalg.inv(S)
        x_new.append(x_pred[j] + K @ nu)
        IKH = np.eye(4) - K @ H
        P_new.append(IKH @ P_pred[j] @ IKH.T + K @ R @ K.T)
        lik.append(np.exp(-0.5 * nu @ np.linalg.solve(S, nu))
                   / np.sqrt(np.linalg.det(2 * np.pi * S)))
    total = sum(lik[j] * cbar[j] for j in range(r))
    mu_new = np.array([lik[j] * cbar[j] / total for j in range(r)])
    return np.array(x_new), np.array(P_new), mu_new, float(np.log(total))


def test_batched_imm_equals_plain_reference() -> None:
    rng = np.random.default_rng(4)
    f = imm_cv_ct(q_cv=1.0, q_ct=4.0, turn_rate_dps=3.0, switch_rate_per_s=0.04)
    k, r = 12, 3
    xm = np.concatenate([rng.uniform(-3e4, 3e4, (k, r, 2)), rng.normal(0, 150, (k, r, 2))], -1)
    Pm = random_spd(rng, (k, r), 4, np.concatenate([rng.uniform(30, 300, (k, r, 2)),
                                                    rng.uniform(3, 30, (k, r, 2))], -1))
    mu = rng.dirichlet(np.ones(r), k)
    state = MixtureState(xm, Pm, mu)
    for step in range(6):
        dt = rng.uniform(0.5, 30.0, k)
        pred = f.predict(state, dt)
        rep = reports(rng, f.combine(pred)[0], polar=step % 2 == 0,
                      origin_xy=np.full((k, 2), 5e3))
        new, ll = f.update(pred, rep)
        for i in range(k):
            x_r, P_r, mu_r, ll_r = reference_imm_step(list(f.models), 0.04, state.xm[i],
                                                      state.Pm[i], state.mu[i], dt[i], rep, i)
            np.testing.assert_allclose(new.xm[i], x_r, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(new.Pm[i], P_r, rtol=1e-9, atol=1e-9)
            np.testing.assert_allclose(new.mu[i], mu_r, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(ll[i], ll_r, rtol=1e-9)
        state = new


# -- covariance health ----------------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), log_pos_std=st.floats(0.0, 5.0),
       log_vel_std=st.floats(-1.0, 3.0), dt=st.floats(0.0, 900.0), polar=st.booleans(),
       log_range=st.floats(1.5, 5.7), switch=st.floats(1e-4, 5.0))
def test_imm_covariances_stay_spd(seed: int, log_pos_std: float, log_vel_std: float,
                                  dt: float, polar: bool, log_range: float, switch: float
                                  ) -> None:
    rng = np.random.default_rng(seed)
    k, r = 6, 3
    f = imm_cv_ct(1.0, 5.0, 3.0, switch_rate_per_s=switch)
    std = np.concatenate([np.full((k, r, 2), 10**log_pos_std),
                          np.full((k, r, 2), 10**log_vel_std)], -1)
    b = rng.uniform(0, 2 * np.pi, (k, r))
    xm = np.zeros((k, r, 4))
    xm[..., 0], xm[..., 1] = 10**log_range * np.sin(b), 10**log_range * np.cos(b)
    xm[..., 2:] = rng.normal(0, 200, (k, r, 2))
    state = MixtureState(xm, random_spd(rng, (k, r), 4, std), rng.dirichlet(np.ones(r), k))
    pred = f.predict(state, np.full(k, dt))
    assert_spd(pred.Pm)
    rep = reports(rng, f.combine(pred)[0], polar=polar, origin_xy=np.zeros((k, 2)))
    post, ll = f.update(pred, rep)
    assert_spd(post.Pm)
    assert_spd(f.combine(post)[1])
    assert np.all(post.mu >= 0) and np.allclose(post.mu.sum(1), 1.0)
    assert np.all(np.isfinite(ll))


# -- a manoeuvre ----------------------------------------------------------------------------


def test_imm_follows_a_turn_better_than_cv() -> None:
    """200 m/s, straight 80 s, a standard-rate left turn (+3 °/s) for 60 s, straight again;
    Cartesian plots every 4 s, σ = 30 m; 40 Monte Carlo runs at once."""
    rng = np.random.default_rng(11)
    k, period, sigma = 40, 4.0, 30.0
    w = np.deg2rad(3.0)
    straight, turn = ConstantVelocity(0.0, 2), CoordinatedTurn(w, 0.0, 2)
    imm = imm_cv_ct(q_cv=1.0, q_ct=1.0, turn_rate_dps=3.0, switch_rate_per_s=0.05)
    kf = KalmanFilter(ConstantVelocity(1.0, 2))
    heading = rng.uniform(0, 2 * np.pi, k)
    truth = np.stack([rng.uniform(-1e4, 1e4, k), rng.uniform(-1e4, 1e4, k),
                      200 * np.sin(heading), 200 * np.cos(heading)], 1)
    P0 = np.diag([sigma**2, sigma**2, 20.0**2, 20.0**2])
    x0 = truth + rng.multivariate_normal(np.zeros(4), P0, k)
    P0k = np.broadcast_to(P0, (k, 4, 4)).copy()
    s_imm, s_kf = imm.initial(x0, P0k), kf.initial(x0, P0k)
    dt = np.full(k, period)
    R = np.zeros((k, 3, 3))
    R[:, 0, 0] = R[:, 1, 1] = sigma**2
    err_imm, err_kf, mu_left, mu_right, times = [], [], [], [], []
    for step in range(1, 56):
        t = step * period
        model = turn if 80.0 < t <= 140.0 else straight
        truth = np.einsum("kij,kj->ki", model.F(dt), truth)
        z = np.full((k, 3), np.nan)
        z[:, :2] = truth[:, :2] + rng.normal(0, sigma, (k, 2))
        rep = ReportRows(int(MeasKind.CARTESIAN_2D), z, R, np.zeros((k, 3)))
        s_imm, _ = imm.update(imm.predict(s_imm, dt), rep)
        s_kf, _ = kf.update(kf.predict(s_kf, dt), rep)
        err_imm.append(np.sum((imm.combine(s_imm)[0][:, :2] - truth[:, :2]) ** 2, 1))
        err_kf.append(np.sum((kf.combine(s_kf)[0][:, :2] - truth[:, :2]) ** 2, 1))
        mu_left.append(s_imm.mu[:, 1].mean())
        mu_right.append(s_imm.mu[:, 2].mean())
        times.append(t)
    tt = np.array(times)
    in_turn = (tt > 96.0) & (tt <= 140.0)
    before = (tt > 40.0) & (tt <= 80.0)
    rms_imm = np.sqrt(np.mean(np.array(err_imm)[in_turn]))
    rms_kf = np.sqrt(np.mean(np.array(err_kf)[in_turn]))
    ml, mr = np.array(mu_left), np.array(mu_right)
    assert rms_imm < 0.6 * rms_kf, (rms_imm, rms_kf)
    assert ml[in_turn].mean() > 0.7 and ml[before].mean() < 0.3, (ml[in_turn], ml[before])
    assert mr[in_turn].mean() < 0.1
    assert ml[in_turn].mean() > ml[before].mean() + 0.4


# -- fast paths against the plain formulation ------------------------------------------------


def einsum_predict(f: IMMFilter, state: MixtureState, dt: np.ndarray) -> MixtureState:
    """The IMM prediction as first written (einsum mixing, each model's own F and Q)."""
    xm, Pm, mu = state
    Pi = f.transition(dt)
    joint = Pi * mu[:, :, None]
    cbar = joint.sum(axis=1)
    mix = joint / cbar[:, None, :]
    x0 = np.einsum("kij,kin->kjn", mix, xm)
    dx = xm[:, :, None, :] - x0[:, None, :, :]
    P0 = np.einsum("kij,kiab->kjab", mix, Pm) + np.einsum("kij,kija,kijb->kjab", mix, dx, dx)
    F = np.stack([m.F(dt) for m in f.models], axis=1)
    Q = np.stack([m.Q(dt) for m in f.models], axis=1)
    x_pred = np.einsum("kjab,kjb->kja", F, x0)
    P_pred = F @ P0 @ np.swapaxes(F, -1, -2) + Q
    return MixtureState(x_pred, 0.5 * (P_pred + np.swapaxes(P_pred, -1, -2)), cbar)


def test_imm_predict_equals_the_einsum_formulation() -> None:
    rng = np.random.default_rng(11)
    k = 40
    for f in (imm_cv_ct(0.5, 2.0), imm_cv_ct(1.0, 3.0, d=3, q_vertical=0.2),
              IMMFilter((CoordinatedTurn(0.05, 1.0), ConstantVelocity(2.0),
                         CoordinatedTurn(-0.02, 3.0)), 0.1)):
        n, r = f.ndim, f.n_modes
        xm = rng.normal(0, 1000, (k, r, n))
        Pm = random_spd(rng, (k, r), n, np.full(n, 30.0))
        mu = rng.dirichlet(np.ones(r), k)
        dt = np.concatenate([[0.0], rng.uniform(0, 30, k - 1)])
        got, want = f.predict(MixtureState(xm, Pm, mu), dt), einsum_predict(f, (xm, Pm, mu), dt)
        np.testing.assert_allclose(got.xm, want.xm, rtol=1e-12, atol=1e-9)
        np.testing.assert_allclose(got.Pm, want.Pm, rtol=1e-12, atol=1e-9)
        np.testing.assert_array_equal(got.mu, want.mu)
        assert_spd(got.Pm)


def test_imm_builds_exactly_each_models_transition_and_noise() -> None:
    dt = np.random.default_rng(3).uniform(0, 20, 30)
    filters = [imm_cv_ct(0.5, 2.0), imm_cv_ct(1.0, 3.0, d=3, q_vertical=0.1),
               imm_cv_ct(1.0, 3.0, d=3),
               IMMFilter((CoordinatedTurn(0.05, 1.0), ConstantVelocity(2.0),
                          CoordinatedTurn(-0.02, 3.0))),                 # turns not adjacent
               IMMFilter((ConstantVelocity(1.0), CoordinatedTurn(0.0, 2.0)))]  # w = 0: CV
    for f in filters:
        F, Q = f._transition_noise(dt)
        for j, m in enumerate(f.models):
            np.testing.assert_array_equal(F[:, j], m.F(dt))
            np.testing.assert_array_equal(Q[:, j], m.Q(dt))


def test_mixture_moments_equal_the_einsum_formulation() -> None:
    from skyfuse.track.filters.imm import mixture_moments

    rng = np.random.default_rng(5)
    k, r, n = 25, 3, 6
    w = rng.dirichlet(np.ones(r), k)
    xm = rng.normal(0, 500, (k, r, n))
    Pm = random_spd(rng, (k, r), n, np.full(n, 10.0))
    x, P = mixture_moments(w, xm, Pm)
    x_ref = np.einsum("kj,kjn->kn", w, xm)
    dx = xm - x_ref[:, None, :]
    P_ref = np.einsum("kj,kjab->kab", w, Pm) + np.einsum("kj,kja,kjb->kab", w, dx, dx)
    np.testing.assert_allclose(x, x_ref, rtol=1e-13, atol=1e-9)
    np.testing.assert_allclose(P, P_ref, rtol=1e-12, atol=1e-9)
    assert_spd(P)
