"""The multi-sensor multi-target tracker: ``Tracker.step(batch)``.

One step takes a :class:`~skyfuse.measure.MeasurementBatch` of any reports (several sensors,
rotating radars: every report has its own time) and processes them in time order, in
*groups*: the reports of one sensor within ``group_window_s`` of data time (plot files:
one scan). For each group:

1. **predict** every track to the group's time, for the spatial index only;
2. **gate**: spatial-index candidates (never pairs of two different addresses), then the
   exact chi-square gate with each track predicted to each report's own time from its
   posterior;
3. **associate**: reports carrying a 24-bit address go first to the track holding that
   address (behind a loose sanity gate); the rest by global nearest neighbour on the sparse
   costs (or JPDA per cluster), never pairing two different addresses;
4. **update** the assigned tracks (Joseph-form Kalman/IMM update, EKF for polar plots);
5. **initiate** tentative tracks from reports no track could use (two-point);
6. **manage**: confirm, coast and delete by data time.

The tracker never reads a clock: the same batches give the same tracks, whatever the order
of reports within a batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import NDArray

from skyfuse.measure.batch import MeasKind, MeasurementBatch
from skyfuse.track.associate.gating import candidate_pairs, chi2_gate
from skyfuse.track.associate.gnn import components, gnn_assign
from skyfuse.track.associate.identity import address_pairs
from skyfuse.track.filters.base import MixtureState, ReportRows, TrackFilter
from skyfuse.track.filters.kalman import linear_innovation
from skyfuse.track.filters.kf import KalmanFilter, gaussian_loglik
from skyfuse.track.manage.initiate import (
    InitiationPool,
    PoolRows,
    two_point_pairs,
    two_point_state,
)
from skyfuse.track.manage.lifecycle import LifecycleRules, advance_status
from skyfuse.track.models.measurement import linearise, polar_to_cartesian
from skyfuse.track.table import TrackStatus, TrackTable

__all__ = ["Snapshot", "Tracker", "TrackerConfig"]

F64 = NDArray[np.float64]
I = NDArray[np.intp]


@dataclass(frozen=True, slots=True)
class TrackerConfig:
    """Everything the tracker needs; every field has a sane default.

    Times in seconds, distances in metres, densities per m².
    """

    filter: TrackFilter = field(default_factory=KalmanFilter)
    association: Literal["gnn", "jpda"] = "gnn"
    gate_probability: float = 0.9997
    identity_gate_probability: float = 1.0 - 1e-9
    identity_slack_m: float = 1000.0
    pd: float = 0.9
    clutter_density: float = 1e-8
    max_speed_mps: float = 400.0
    revisit_s: float = 1.0
    group_window_s: float = 0.0
    confirm_m: int = 3
    confirm_n: int = 4
    coast_after_s: float | None = None
    delete_after_s: float | None = None
    delete_identified_after_s: float | None = None
    init_max_dt_s: float | None = None
    max_position_sigma_m: float = 5000.0

    def rules(self) -> LifecycleRules:
        """The life-cycle rules, defaults scaled by the revisit period."""
        r = self.revisit_s
        delete = self.delete_after_s if self.delete_after_s is not None else 5.0 * r
        return LifecycleRules(
            confirm_m=self.confirm_m, confirm_n=self.confirm_n, revisit_s=r,
            coast_after_s=self.coast_after_s if self.coast_after_s is not None else 1.5 * r,
            delete_after_s=delete,
            young_delete_after_s=min(delete, 3.0 * r),
            delete_identified_after_s=(self.delete_identified_after_s
                                       if self.delete_identified_after_s is not None
                                       else max(delete, 60.0)),
            max_position_sigma_m=self.max_position_sigma_m)


class Snapshot(NamedTuple):
    """Tracks at one time: ids, status, combined state ``x[K,n]`` and ``P[K,n,n]``, identity."""

    t_s: float
    track_id: NDArray[np.int64]
    status: NDArray[np.int8]
    x: F64
    P: F64
    t_last_s: F64
    icao24: NDArray[np.int32]
    callsign: NDArray[np.bytes_]
    mode3a: NDArray[np.int16]
    alt_ft: F64
    n_updates: NDArray[np.int32]
    quality: NDArray[np.float32]
    sensors: NDArray[np.int64]


class _Pairs(NamedTuple):
    """Gated (track, report) pairs with the track predicted to the report's time."""

    track: I
    report: I
    predicted: MixtureState
    d2: F64
    cost: F64
    loglik: F64
    same_id: NDArray[np.bool_]


class Tracker:
    """Deterministic multi-target tracker over :class:`MeasurementBatch` inputs."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config or TrackerConfig()
        f = self.config.filter
        self.filter: TrackFilter = f
        self.rules = self.config.rules()
        self.tracks = TrackTable.empty(f.n_modes, f.ndim)
        self.pool = InitiationPool.empty()
        self.next_track_id = 1
        self.time_s = -np.inf
        self._identity = False                           # the current group has identity fields
        self._gate = _Chi2Gates(self.config.gate_probability)         # γ by dof, on demand
        self._id_gate = _Chi2Gates(self.config.identity_gate_probability)
        self._q_max = _process_q(f)                     # for gate radii
        self._init_dt = (self.config.init_max_dt_s if self.config.init_max_dt_s is not None
                         else 2.5 * self.config.revisit_s)

    # ------------------------------------------------------------------------------------
    def step(self, batch: MeasurementBatch) -> None:
        """Process every valid report of ``batch``, in time order, group by group."""
        batch = batch.take(batch.valid) if not batch.valid.all() else batch
        if len(batch) == 0:
            return
        for group in self._groups(batch):
            self._process(group)

    def _groups(self, batch: MeasurementBatch) -> list[MeasurementBatch]:
        """Split into groups: one sensor, one time window; canonical order inside.

        Sorting on (time, sensor, z) makes the result independent of the input order.
        A second report with the same address inside a group goes to a later group.
        """
        t = batch.t_s
        w = self.config.group_window_s
        bucket = np.floor(t / w) if w > 0 else t
        icao = batch.icao24
        z = batch.z
        if bucket.min() == bucket.max() and batch.sensor.min() == batch.sensor.max():
            known = np.sort(icao[icao >= 0])
            if not (known[1:] == known[:-1]).any():       # one scan, no repeated address
                return [batch.take(np.lexsort((z[:, 1], z[:, 0], t)))]
        order = np.lexsort((z[:, 1], z[:, 0], t, icao, batch.sensor, bucket))
        key_b, key_s, key_i = bucket[order], batch.sensor[order], icao[order]
        # occurrence rank of an address inside its (bucket, sensor): 0 for the first
        n = len(order)
        same = np.zeros(n, np.bool_)
        same[1:] = (key_b[1:] == key_b[:-1]) & (key_s[1:] == key_s[:-1]) & (key_i[1:] == key_i[:-1])
        same &= key_i >= 0
        rank = np.zeros(n, np.intp)
        if same.any():
            run_start = np.flatnonzero(~same)
            idx = np.arange(n)
            rank = idx - run_start[np.searchsorted(run_start, idx, "right") - 1]
        # one integer per (bucket, sensor, rank), in their lexicographic order
        _, b_idx = np.unique(key_b, return_inverse=True)
        s_idx = key_s.astype(np.int64) - int(key_s.min())
        s_span = int(s_idx.max()) + 1
        r_span = int(rank.max()) + 1
        code = (b_idx.astype(np.int64).ravel() * s_span + s_idx) * r_span + rank
        if n == 1 or (code == code[0]).all():
            return [batch.take(order)]
        _, first, inv = np.unique(code, return_index=True, return_inverse=True)
        inv = inv.ravel()
        first_t = np.full(len(first), np.inf)
        np.minimum.at(first_t, inv, t[order])
        group_order = np.lexsort((rank[first], key_s[first], first_t))
        rank_of = np.empty(len(first), np.intp)
        rank_of[group_order] = np.arange(len(first))
        gi = rank_of[inv]
        o = np.argsort(gi, kind="stable")
        b = batch.take(order[o])
        cuts = np.flatnonzero(np.diff(gi[o])) + 1
        starts = np.concatenate([[0], cuts])
        ends = np.concatenate([cuts, [n]])
        return [b.take(slice(s, e)) for s, e in zip(starts, ends, strict=True)]

    # ------------------------------------------------------------------------------------
    def _process(self, rep: MeasurementBatch) -> None:
        """One group: predict, gate, associate, update, initiate, manage."""
        t_now = float(rep.t_s.max())
        self._identity = _has_identity(rep)
        xy, Rxy = _horizontal(rep)
        pairs = self._gate_pairs(rep, xy, Rxy, t_now)
        by_id, rest = self._associate_identity(rep, pairs)
        if self.config.association == "jpda":
            self._update(rep, pairs, by_id)
            self._update_jpda(rep, pairs, rest, t_now)
        else:
            pick = gnn_assign(pairs.track[rest], pairs.report[rest], pairs.cost[rest],
                              len(self.tracks), len(rep))
            self._update(rep, pairs, np.concatenate([by_id, rest[pick]]))
        used = np.zeros(len(rep), np.bool_)
        used[pairs.report] = True                        # in some gate: not a new aircraft
        self._initiate(rep, xy, Rxy, ~used, t_now)
        self._manage(t_now)
        self.time_s = max(self.time_s, t_now)

    def _gate_pairs(self, rep: MeasurementBatch, xy: F64, Rxy: F64, t_now: float) -> _Pairs:
        """Candidate pairs from the spatial index plus identity joins, with exact gating."""
        tab = self.tracks
        k = len(tab)
        if k == 0:
            return _empty_pairs(tab)
        x, P = tab.x, tab.P
        d = self.filter.d
        dt = np.maximum(t_now - tab.t_s, 0.0)
        pos = x[:, :2] + x[:, d:d + 2] * dt[:, None]
        # trace of predicted position covariance, bounded from above (see gating.py)
        tr_pp = P[:, 0, 0] + P[:, 1, 1]                  # traces of the horizontal blocks
        tr_vv = P[:, d, d] + P[:, d + 1, d + 1]
        tr_pv = P[:, 0, d] + P[:, 1, d + 1]
        q = self._q_max
        tr_pred = tr_pp + 2 * dt * np.abs(tr_pv) + dt**2 * tr_vv + 2 * q * dt**3 / 3 + 1.0
        max_R = float((Rxy[:, 0, 0] + Rxy[:, 1, 1]).max())
        radius = np.sqrt(self._gate[2] * (2.0 * tr_pred + 2.0 * max_R))
        radius = np.minimum(radius, self.config.max_speed_mps * (dt + self.config.revisit_s)
                            + 10.0 * np.sqrt(max_R) + 3.0 * np.sqrt(tr_pp))
        t_k, r_k = self._kinematic_candidates(pos, radius, xy, tab.icao24, rep.icao24)
        if len(t_k) == 0:
            return _empty_pairs(tab)
        dt_pair = np.maximum(rep.t_s[r_k] - tab.t_s[t_k], 0.0)
        pred = self.filter.predict(tab.state.take(t_k), dt_pair)
        xp, Pp = self.filter.combine(pred)
        n_pairs = len(t_k)
        d2, cost, loglik = np.empty(n_pairs), np.empty(n_pairs), np.empty(n_pairs)
        gate = np.empty(n_pairs)
        id_gate = np.empty(n_pairs)
        for kind, s in _by_kind(rep.kind[r_k]):
            j = r_k[s]
            nu, H, R = linearise(kind, rep.z[j], rep.R[j], rep.origin_m[j], xp[s], d)
            inn = linear_innovation(nu, Pp[s], H, R)
            d2[s] = inn.d2
            cost[s] = inn.d2 + inn.logdet_S               # −2 log N(ν; 0, S) + const
            m = nu.shape[1]
            gate[s], id_gate[s] = self._gate[m], self._id_gate[m]
            loglik[s] = gaussian_loglik(inn.d2, inn.logdet_S, m)
            if kind == MeasKind.POLAR:                    # density per (m·rad) → per m²
                loglik[s] -= np.log(np.maximum(rep.z[j, 0], 1.0))
        if self._identity:
            same_id = (rep.icao24[r_k] >= 0) & (rep.icao24[r_k] == tab.icao24[t_k])
            gap = xy[r_k] - xp[:, :2]
            slack = np.sqrt(gap[:, 0] ** 2 + gap[:, 1] ** 2) <= self.config.identity_slack_m
            keep = np.where(same_id, (d2 <= id_gate) | slack, d2 <= gate)
        else:                                             # no addresses in this group
            same_id = np.zeros(n_pairs, np.bool_)
            keep = d2 <= gate
        s = np.flatnonzero(keep)
        if len(s) == n_pairs:                             # all kept: no copies
            return _Pairs(t_k, r_k, pred, d2, cost, loglik, same_id)
        return _Pairs(t_k[s], r_k[s], pred.take(s), d2[s], cost[s], loglik[s], same_id[s])

    def _kinematic_candidates(self, pos: F64, radius: F64, xy: F64, t_icao: NDArray[np.int32],
                              r_icao: NDArray[np.int32]) -> tuple[I, I]:
        """Candidate (track, report) pairs, sorted by track then report, none conflicting.

        The set is {pairs within ``radius``} ∪ {same-address pairs}, less the pairs whose two
        addresses are known and differ (never associated). The spatial index is asked only
        what can survive that: tracks without an address against every report, tracks with
        one against the reports without one; the same-address pairs come from the address
        join. With addresses everywhere (ADS-B) no spatial search runs at all.
        """
        t_has = t_icao >= 0
        r_has = r_icao >= 0
        if not (t_has.any() or r_has.any()):                 # no identities: plain gating
            return candidate_pairs(pos, radius, xy)
        m1 = len(xy) + 1
        keys = []
        t_no = np.flatnonzero(~t_has)
        if len(t_no):                                        # tracks without an address
            t, r = candidate_pairs(pos[t_no], radius[t_no], xy)
            keys.append(t_no[t] * m1 + r)
        t_yes, r_no = np.flatnonzero(t_has), np.flatnonzero(~r_has)
        if len(t_yes) and len(r_no):                         # with one, to reports without
            t, r = candidate_pairs(pos[t_yes], radius[t_yes], xy[r_no])
            keys.append(t_yes[t] * m1 + r_no[r])
        t_i, r_i = address_pairs(t_icao, r_icao)
        if len(t_i):
            keys.append(t_i * m1 + r_i)
        if not keys:
            e = np.empty(0, np.intp)
            return e, e
        u = np.sort(np.concatenate(keys)) if len(keys) > 1 else np.sort(keys[0])
        if len(keys) > 1 and len(u):                         # a pair may come twice
            u = u[np.concatenate([[True], u[1:] != u[:-1]])]
        return (u // m1).astype(np.intp), (u % m1).astype(np.intp)

    def _associate_identity(self, rep: MeasurementBatch, pairs: _Pairs) -> tuple[I, I]:
        """Identity first: pairs chosen by address, and the pairs left for kinematics.

        Pairs whose report carries the track's own address are assigned first (optimally,
        in case an address is duplicated); the kinematic pairs left are those whose track
        and report are both still free. Returns indices into ``pairs``.
        """
        k, m = len(self.tracks), len(rep)
        same_id = pairs.same_id
        if not same_id.any():
            return np.empty(0, np.intp), np.arange(len(pairs.track))
        s = np.flatnonzero(same_id)
        by_id = s[gnn_assign(pairs.track[s], pairs.report[s], pairs.cost[s], k, m)]
        t_used = np.zeros(k, np.bool_)
        r_used = np.zeros(m, np.bool_)
        t_used[pairs.track[by_id]] = True
        r_used[pairs.report[by_id]] = True
        rest = np.flatnonzero(~same_id & ~t_used[pairs.track] & ~r_used[pairs.report])
        return by_id, rest

    def _update(self, rep: MeasurementBatch, pairs: _Pairs, idx: I) -> None:
        """Kalman/IMM update of tracks with their one chosen report (``pairs`` rows ``idx``)."""
        if len(idx) == 0:
            return
        tab = self.tracks
        trk, rpt = pairs.track[idx], pairs.report[idx]
        pred = pairs.predicted.take(idx)
        for kind, s in _by_kind(rep.kind[rpt]):
            j = rpt[s]
            post, _ = self.filter.update(
                pred.take(s), ReportRows(int(kind), rep.z[j], rep.R[j], rep.origin_m[j]))
            tab.state.xm[trk[s]] = post.xm
            tab.state.Pm[trk[s]] = post.Pm
            tab.state.mu[trk[s]] = post.mu
            tab.x[trk[s]], tab.P[trk[s]] = self.filter.combine(post)
        tab.t_s[trk] = np.maximum(tab.t_s[trk], rep.t_s[rpt])
        tab.n_updates[trk] += 1
        tab.nis_sum[trk] += pairs.d2[idx]
        _copy_identity(tab, trk, rep, rpt, self._identity)

    def _update_jpda(self, rep: MeasurementBatch, pairs: _Pairs, sel: I, t_now: float) -> None:
        """JPDA: association probabilities per cluster, then the PDA update of each track.

        Tracks are predicted to the group time ``t_now`` (one prediction per track, as the
        PDA mixture needs). Clusters of one pair use the closed-form PDAF weights; larger
        ones :func:`~skyfuse.track.associate.jpda.jpda_marginals`.
        """
        if len(sel) == 0:
            return
        from skyfuse.track.associate.jpda import pda_combine  # only when JPDA is chosen

        tab, cfg = self.tracks, self.config
        tr, rp, ll = pairs.track[sel], pairs.report[sel], pairs.loglik[sel]
        ut, lt = np.unique(tr, return_inverse=True)
        beta, beta0 = _jpda_weights(lt, rp, ll, len(ut), len(rep), cfg)
        dt = np.maximum(t_now - tab.t_s[ut], 0.0)
        predicted = self.filter.predict(tab.state.take(ut), dt)
        on_pair = predicted.take(lt)
        post = MixtureState(on_pair.xm.copy(), on_pair.Pm.copy(), on_pair.mu.copy())
        for kind in np.unique(rep.kind[rp]):
            s = np.flatnonzero(rep.kind[rp] == kind)
            j = rp[s]
            p, _ = self.filter.update(
                on_pair.take(s), ReportRows(int(kind), rep.z[j], rep.R[j], rep.origin_m[j]))
            post.xm[s], post.Pm[s], post.mu[s] = p.xm, p.Pm, p.mu
        merged = pda_combine(predicted, lt, post, beta, beta0)
        tab.state.xm[ut], tab.state.Pm[ut], tab.state.mu[ut] = merged
        tab.x[ut], tab.P[ut] = self.filter.combine(merged)
        tab.t_s[ut] = np.maximum(tab.t_s[ut], t_now)
        tab.n_updates[ut] += 1
        np.add.at(tab.nis_sum, ut[lt], beta * pairs.d2[sel])
        likely = beta > 0.5                              # identity from a clear winner only
        _copy_identity(tab, tr[likely], rep, rp[likely], self._identity)

    def _initiate(self, rep: MeasurementBatch, xy: F64, Rxy: F64, free: NDArray[np.bool_],
                  t_now: float) -> None:
        """Pair unused reports with pooled ones into tentative tracks; pool the rest."""
        pool = self.pool.since(t_now - self._init_dt)
        fi = np.flatnonzero(free)
        pi, ni = two_point_pairs(pool, rep.t_s[fi], rep.icao24[fi], xy[fi], Rxy[fi],
                                 self.config.max_speed_mps, self._init_dt)
        if len(ni):
            f = self.filter
            j = fi[ni]
            x0, P0 = two_point_state(pool.xy[pi], pool.Rxy[pi], xy[j], Rxy[j],
                                     rep.t_s[j] - pool.reports.t_s[pi], f.d,
                                     rep.alt_ft[j] * 0.3048)
            ids = np.arange(self.next_track_id, self.next_track_id + len(j), dtype=np.int64)
            self.next_track_id += len(j)
            born = TrackTable.new(ids, f.initial(x0, P0), x0, P0, rep.t_s[j],
                                  pool.reports.t_s[pi])
            rows = np.arange(len(j))
            _copy_identity(born, rows, pool.reports, pi, pool.identity)
            _copy_identity(born, rows, rep, j, self._identity)
            self.tracks = self.tracks.extend(born)
            pool.used[pi] = True
            free = free.copy()
            free[j] = False
            fi = np.flatnonzero(free)
        self.pool = pool.add(rep, xy[fi], Rxy[fi], self._identity, rows=fi)

    def _manage(self, t_now: float) -> None:
        """Confirm, coast, delete."""
        tab = self.tracks
        if len(tab) == 0:
            return
        P = tab.P
        d = self.filter.d
        dt = np.maximum(t_now - tab.t_s, 0.0)
        var = (P[:, 0, 0] + P[:, 1, 1]) + dt**2 * (P[:, d, d] + P[:, d + 1, d + 1])  # traces
        keep = advance_status(tab, t_now, self.rules, var)
        if not keep.all():
            self.tracks = tab.take(keep)

    # ------------------------------------------------------------------------------------
    def snapshot(self, t_s: float | None = None, include_tentative: bool = False) -> Snapshot:
        """Confirmed and coasting tracks (and tentative ones if asked) predicted to ``t_s``.

        ``t_s`` defaults to the latest report time seen. Tracks updated after ``t_s`` are
        given at their own time (never retrodicted).
        """
        t = self.time_s if t_s is None else float(t_s)
        tab = self.tracks
        sel = np.flatnonzero(include_tentative | (tab.status != TrackStatus.TENTATIVE))
        sel = sel[np.argsort(tab.track_id[sel], kind="stable")]
        x, P = tab.x[sel], tab.P[sel]
        dt = t - tab.t_s[sel]
        ahead = np.flatnonzero(dt > 0)                   # coasting: predict; others as is
        if len(ahead):
            moved = self.filter.predict(tab.state.take(sel[ahead]), dt[ahead])
            x[ahead], P[ahead] = self.filter.combine(moved)
        return Snapshot(t, tab.track_id[sel], tab.status[sel], x, P, tab.t_s[sel],
                        tab.icao24[sel], tab.callsign[sel], tab.mode3a[sel], tab.alt_ft[sel],
                        tab.n_updates[sel], tab.quality[sel], tab.sensors[sel])


def _jpda_weights(
    lt: I, rp: I, ll: F64, nt: int, nm: int, cfg: TrackerConfig
) -> tuple[F64, F64]:
    """β per pair and β0 per track, cluster by cluster (one-pair clusters in closed form)."""
    b = 1.0 - cfg.pd * cfg.gate_probability              # 1 − Pd Pg
    g = cfg.pd * np.exp(ll) / cfg.clutter_density         # Pd N(ν;0,S) / λ
    t_deg = np.bincount(lt, minlength=nt)
    r_deg = np.bincount(rp, minlength=nm)
    lone = (t_deg[lt] == 1) & (r_deg[rp] == 1)
    beta = g / (b + g)                                    # PDAF, one report
    beta0 = np.ones(nt)
    beta0[lt[lone]] = b / (b + g[lone])
    rest = np.flatnonzero(~lone)
    if len(rest):
        from skyfuse.track.associate.jpda import jpda_marginals

        label = components(lt[rest], rp[rest], nt, nm)
        order = np.argsort(label, kind="stable")
        cuts = np.flatnonzero(np.diff(label[order])) + 1
        for c in np.split(rest[order], cuts):
            ct, it = np.unique(lt[c], return_inverse=True)
            cr, ir = np.unique(rp[c], return_inverse=True)
            bc, b0c = jpda_marginals(len(ct), len(cr), it, ir, ll[c], cfg.pd,
                                     cfg.gate_probability, cfg.clutter_density)
            beta[c] = bc
            beta0[ct] = b0c
    return beta, beta0


class _Chi2Gates(dict[int, float]):
    """Chi-square gate thresholds by degrees of freedom, computed when first asked for
    (3 dof needs scipy.special: only 3-D reports pay its import)."""

    def __init__(self, probability: float) -> None:
        super().__init__()
        self.probability = probability

    def __missing__(self, dof: int) -> float:
        self[dof] = g = chi2_gate(self.probability, dof)
        return g


def _by_kind(kinds: NDArray[np.int8]) -> list[tuple[int, I | slice]]:
    """``(kind, rows)`` for every measurement kind present; one kind (the usual case): all
    rows as a slice, so that selecting them copies nothing."""
    k0 = int(kinds[0])
    if (kinds == k0).all():
        return [(k0, slice(None))]
    return [(int(k), np.flatnonzero(kinds == k))
            for k in np.flatnonzero(np.bincount(kinds.astype(np.intp)))]


def _empty_pairs(tab: TrackTable) -> _Pairs:
    """No pairs."""
    e = np.empty(0, np.intp)
    f = np.empty(0)
    return _Pairs(e, e, MixtureState(*(a[:0] for a in tab.state)), f, f, f,
                  np.empty(0, np.bool_))


def _horizontal(rep: MeasurementBatch) -> tuple[F64, F64]:
    """Horizontal position ``[M,2]`` and covariance ``[M,2,2]`` of every report.

    Polar plots use the debiased converted measurement (models/measurement.py).
    """
    if not (rep.kind == _POLAR).any():                   # positions already: views
        return rep.z[:, :2], rep.R[:, :2, :2]
    xy = rep.z[:, :2].copy()
    R = rep.R[:, :2, :2].copy()
    pol = np.flatnonzero(rep.kind == _POLAR)
    if len(pol):
        cxy, cR = polar_to_cartesian(rep.z[pol, 0], rep.z[pol, 1], rep.R[pol, 0, 0],
                                     rep.R[pol, 1, 1], rep.origin_m[pol])
        xy[pol], R[pol] = cxy, cR
    return xy, R


_POLAR = int(MeasKind.POLAR)                            # plain int: no IntEnum round trip


def _process_q(f: TrackFilter) -> float:
    """Largest acceleration PSD among the filter's motion models (for gate radii)."""
    models = getattr(f, "models", None) or (getattr(f, "model", None),)
    return max(float(getattr(m, "q", 1.0)) for m in models if m is not None)


def _copy_identity(tab: TrackTable, rows: I, rep: MeasurementBatch | PoolRows, j: I,
                   identity: bool = True) -> None:
    """Carry identity fields that the reports ``j`` hold onto track rows ``rows``.

    ``identity=False`` (no report of ``rep`` carries any identity field) skips all but the
    sensor bookkeeping.
    """
    tab.sensors[rows] |= np.left_shift(np.int64(1), (rep.sensor[j] % 63).astype(np.int64))
    if not identity:
        return
    a = rep.icao24[j] >= 0
    tab.icao24[rows[a]] = rep.icao24[j[a]]
    tab.addr_type[rows[a]] = rep.addr_type[j[a]]
    c = rep.callsign[j] != b""
    tab.callsign[rows[c]] = rep.callsign[j[c]]
    m = rep.mode3a[j] >= 0
    tab.mode3a[rows[m]] = rep.mode3a[j[m]]
    h = ~np.isnan(rep.alt_ft[j])
    tab.alt_ft[rows[h]] = rep.alt_ft[j[h]]


def _has_identity(rep: MeasurementBatch) -> bool:
    """Whether any report carries an address, callsign, Mode 3/A code or altitude."""
    if len(rep) == 0:
        return False
    call = rep.callsign
    named = (call.view(np.uint64).any() if call.dtype.itemsize == 8 and call.flags.c_contiguous
             else (call != b"").any())                   # S8: b"" is eight zero bytes
    return bool(rep.icao24.max() >= 0 or rep.mode3a.max() >= 0 or named
                or not np.isnan(rep.alt_ft).all())
