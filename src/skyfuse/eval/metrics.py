"""Quality metrics from associated track updates: accuracy, update probability, continuity.

Which rows count (``status``):

* **tentative** rows are not part of the picture: they are associated (for the confirmation
  delay) but count for nothing else;
* **confirmed** rows are measurement updates: they count for accuracy, update probability
  and continuity;
* **coasting** rows are predictions without a measurement: excluded from accuracy and from
  update probability (they are not updates), included in continuity (the track is still
  held) and in the false-track test.

Accuracy (confirmed, associated rows). Error ``e = track − truth`` (east, north, m);
``u`` the unit vector of the truth velocity (rows where the truth moves at ≥ 2 m/s)::

    position_rms_m    = √ mean(e_east² + e_north²)
    along_track_rms_m = √ mean((e·u)²)        across_track_rms_m = √ mean((e·u⊥)²)
    velocity_rms_mps  = √ mean(|v_track − v_truth|²)        (rows with a track velocity)
    heading_rms_deg   = √ mean(wrap(hdg_track − hdg_truth)²)  (truth and track ≥ 10 m/s)
    latency_s         = −median(e·u / |v_truth|)   (truth ≥ 50 m/s: how far in time the
                                                    track position lags the truth)

Update probability. Each truth object ``j`` has its own grid of intervals of the nominal
period ``P``, ``[t0_j + iP, t0_j + (i+1)P)`` with ``t0_j`` its first sample. The intervals
*expected* are those from the one holding the first to the one holding the last associated
confirmed-or-coasting row of ``j`` (while the object is covered by some track) in which the
object exists (a truth sample in it, or its middle inside the object's life: holes in the
truth, e.g. out of coverage, are not expected); an interval is *updated* when it holds at
least one associated confirmed row (of any track).
``update_probability = Σ_j updated_j / Σ_j expected_j``.

Continuity. The associated confirmed/coasting rows of one (truth, track) pair are cut into
*segments* wherever two consecutive rows are more than ``break_gap_s = k·P`` apart (``k``
= ``break_periods``, default 3). Per truth object, the segments are walked in order of start;
a segment ending before the current one ends is nested (a duplicate or a stray association)
and skipped; otherwise it becomes current and

* a different track: one ``track_number_changes``; if it starts more than ``break_gap_s``
  after the current one ended, also one ``track_breaks`` (coverage lost and re-acquired by a
  new track); without such a gap it is a hand-over (number change only);
* the same track after a gap: one ``gaps_bridged`` (the tracker held the track through the
  gap: no break).

``duplicate_tracks``: tracks with a segment on a truth object that overlaps, by more than
``duplicate_min_s`` (default 5·P), a segment of another track on that object started
earlier. Counted once per track.

Identity swaps. Per track, its associated confirmed/coasting rows in time order give a
sequence of truth objects; runs shorter than ``min_run`` rows (default 3) are dropped as
ambiguity (nearest-truth association flickers where aircraft cross), equal neighbours
merged; each remaining change X → Y is a *switch* at the midpoint between the two runs.
Two switches X → Y and Y → X of two tracks within ``swap_window_s`` (default 10·P) are one
**swapped pair** and count as ONE identity swap; ``identity_swaps = switches − pairs``.

False tracks: tracks with at least one confirmed row, none of whose confirmed or coasting
rows is associated with truth.

Delays: ``confirmation_delay_s`` is the median over tracked objects of (first associated
confirmed row − first associated row of any status); ``time_to_track_s`` the median of
(first associated confirmed row − the object's first truth sample).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from skyfuse.eval.associate import Association
from skyfuse.eval.csvio import TrackData, TruthData
from skyfuse.eval.geo import TruthCurve

__all__ = ["Continuity", "MetricConfig", "accuracy", "continuity", "per_target",
           "update_probability"]

F64 = NDArray[np.float64]
I64 = NDArray[np.int64]

CONFIRMED = 1
COASTING = 2


@dataclass(frozen=True, slots=True)
class MetricConfig:
    """Parameters of the metrics (see the module docstring); times in seconds."""

    period_s: float
    break_periods: float = 3.0
    min_run: int = 3
    duplicate_periods: float = 5.0
    swap_window_periods: float = 10.0
    min_speed_mps: float = 2.0
    heading_min_speed_mps: float = 10.0
    latency_min_speed_mps: float = 50.0

    @property
    def break_gap_s(self) -> float:
        """Interruption (s) beyond which a segment ends."""
        return self.break_periods * self.period_s


def _rms(x: F64) -> float | None:
    return float(np.sqrt(np.mean(x * x))) if len(x) else None


def accuracy(tracks: TrackData, a: Association, cfg: MetricConfig,
             rows: NDArray[np.bool_] | None = None) -> dict[str, float | int | None]:
    """Accuracy figures over the associated confirmed rows (optionally only ``rows``)."""
    m = a.associated & (tracks.status == CONFIRMED)
    if rows is not None:
        m &= rows
    e, n = a.err_east_m[m], a.err_north_m[m]
    tvx, tvy = a.truth_vx_mps[m], a.truth_vy_mps[m]
    vx, vy = tracks.vx_mps[m], tracks.vy_mps[m]
    speed = np.hypot(tvx, tvy)
    mv = speed >= cfg.min_speed_mps
    ux, uy = tvx[mv] / speed[mv], tvy[mv] / speed[mv]
    along = e[mv] * ux + n[mv] * uy
    across = -e[mv] * uy + n[mv] * ux
    hv = np.isfinite(vx) & np.isfinite(vy)
    dv = np.hypot(vx[hv] - tvx[hv], vy[hv] - tvy[hv])
    hm = hv & (speed >= cfg.heading_min_speed_mps) & (np.hypot(vx, vy) >= cfg.heading_min_speed_mps)
    dh = (np.degrees(np.arctan2(vx[hm], vy[hm]) - np.arctan2(tvx[hm], tvy[hm])) + 180.0) \
        % 360.0 - 180.0
    fast = speed[mv] >= cfg.latency_min_speed_mps
    lag = -along[fast] / speed[mv][fast]
    return {
        "n_updates": int(m.sum()),
        "position_rms_m": _rms(np.hypot(e, n)),
        "along_track_rms_m": _rms(along),
        "across_track_rms_m": _rms(across),
        "along_track_mean_m": float(np.mean(along)) if len(along) else None,
        "velocity_rms_mps": _rms(dv),
        "heading_rms_deg": _rms(dh),
        "latency_s": float(np.median(lag)) if len(lag) else None,
    }


def update_probability(tracks: TrackData, truth: TruthData, a: Association,
                       cfg: MetricConfig, curve: TruthCurve | None = None
                       ) -> tuple[I64, I64]:
    """Per truth object: (expected intervals, updated intervals); see the module.

    Vectorised over all (object, interval) pairs of the coverage windows: an interval is
    alive when the object exists at its middle, has a sample in it, or an associated row
    falls in it (so that updated ≤ expected always).
    """
    mobj = truth.n_objects
    cov = a.associated & ((tracks.status == CONFIRMED) | (tracks.status == COASTING))
    upd = a.associated & (tracks.status == CONFIRMED)
    t0 = truth.t_s[truth.starts[:-1]]          # every object has at least one sample
    expected = np.zeros(mobj, np.int64)
    updated = np.zeros(mobj, np.int64)
    if not cov.any():
        return expected, updated
    P = cfg.period_s

    def interval(obj: I64, t: F64) -> I64:
        return np.floor((t - t0[obj]) / P + 1e-9).astype(np.int64)

    obj_c = a.truth[cov]
    q_c = interval(obj_c, tracks.t_s[cov])
    q_first = np.full(mobj, np.iinfo(np.int64).max)
    q_last = np.full(mobj, np.iinfo(np.int64).min)
    np.minimum.at(q_first, obj_c, q_c)
    np.maximum.at(q_last, obj_c, q_c)
    cnt = np.where(q_last >= q_first, q_last - q_first + 1, 0)
    offset = np.cumsum(cnt) - cnt                   # flat index of (j, q_first_j)
    obj = np.repeat(np.arange(mobj, dtype=np.int64), cnt)
    q = np.repeat(q_first, cnt) + (np.arange(len(obj)) - np.repeat(offset, cnt))
    curve = curve if curve is not None else TruthCurve.of(truth)
    alive, *_ = curve.at(obj, t0[obj] + (q + 0.5) * P)

    def flat(o: I64, qq: I64) -> I64:
        ok = (cnt[o] > 0) & (qq >= q_first[o]) & (qq <= q_last[o])
        return offset[o[ok]] + (qq[ok] - q_first[o[ok]])

    alive[flat(truth.obj, interval(truth.obj, truth.t_s))] = True
    hit = np.zeros(len(obj), bool)
    obj_u = a.truth[upd]
    hit[flat(obj_u, interval(obj_u, tracks.t_s[upd]))] = True
    alive |= hit
    expected = np.bincount(obj, alive.astype(np.int64), minlength=mobj).astype(np.int64)
    updated = np.bincount(obj, hit.astype(np.int64), minlength=mobj).astype(np.int64)
    return expected, updated


@dataclass(frozen=True, slots=True)
class Continuity:
    """Continuity figures: totals and per truth object (arrays indexed by object)."""

    track_number_changes: I64
    track_breaks: I64
    gaps_bridged: I64
    n_tracks: I64
    duplicate_tracks: int
    track_switches: int
    identity_swaps: int
    swapped_pairs: int
    false_tracks: int
    n_confirmed_tracks: int
    false_track_labels: list[str]


def _segments(tracks: TrackData, a: Association, cov: NDArray[np.bool_], gap_s: float
              ) -> tuple[I64, I64, F64, F64]:
    """(truth, track, t_start, t_end) of the association segments, see the module."""
    idx = np.flatnonzero(cov)
    if len(idx) == 0:
        e = np.empty(0, np.int64)
        return e, e.copy(), np.empty(0), np.empty(0)
    tr, tk, t = a.truth[idx], tracks.track[idx], tracks.t_s[idx]
    o = np.lexsort((t, tk, tr))
    tr, tk, t = tr[o], tk[o], t[o]
    new = np.ones(len(t), bool)
    new[1:] = (tr[1:] != tr[:-1]) | (tk[1:] != tk[:-1]) | (np.diff(t) > gap_s)
    start = np.flatnonzero(new)
    end = np.append(start[1:], len(t)) - 1
    return tr[start], tk[start], t[start], t[end]


def continuity(tracks: TrackData, truth: TruthData, a: Association, cfg: MetricConfig
               ) -> Continuity:
    """Track number changes, breaks, duplicates, identity swaps and false tracks."""
    mobj = truth.n_objects
    cov = a.associated & ((tracks.status == CONFIRMED) | (tracks.status == COASTING))
    s_tr, s_tk, s_t0, s_t1 = _segments(tracks, a, cov, cfg.break_gap_s)
    changes = np.zeros(mobj, np.int64)
    breaks = np.zeros(mobj, np.int64)
    bridged = np.zeros(mobj, np.int64)
    n_tracks = np.zeros(mobj, np.int64)
    dup_tracks: set[int] = set()
    dup_min_s = cfg.duplicate_periods * cfg.period_s
    order = np.lexsort((s_t0, s_tr))
    bounds = np.searchsorted(s_tr[order], np.arange(mobj + 1))
    for j in range(mobj):
        seg = order[bounds[j]:bounds[j + 1]]
        if len(seg) == 0:
            continue
        tk, t0, t1 = s_tk[seg].tolist(), s_t0[seg].tolist(), s_t1[seg].tolist()
        n_tracks[j] = len(set(tk))
        cur = 0
        for k in range(1, len(seg)):
            if t1[k] > t1[cur]:
                if tk[k] != tk[cur]:
                    changes[j] += 1
                    if t0[k] - t1[cur] > cfg.break_gap_s:
                        breaks[j] += 1
                else:
                    bridged[j] += 1
                cur = k
            for p in range(k):                      # duplicates: overlap with an earlier one
                if tk[p] != tk[k] and min(t1[p], t1[k]) - t0[k] > dup_min_s:
                    dup_tracks.add(tk[k])
                    break
    switches, pairs = _switches(tracks, a, cov, cfg)
    confirmed = np.unique(tracks.track[tracks.status == CONFIRMED])
    good = np.unique(tracks.track[cov])
    false = np.setdiff1d(confirmed, good)
    return Continuity(track_number_changes=changes, track_breaks=breaks, gaps_bridged=bridged,
                      n_tracks=n_tracks, duplicate_tracks=len(dup_tracks),
                      track_switches=switches, identity_swaps=switches - pairs,
                      swapped_pairs=pairs, false_tracks=len(false),
                      n_confirmed_tracks=len(confirmed),
                      false_track_labels=[str(tracks.track_labels[i]) for i in false[:50]])


def _switches(tracks: TrackData, a: Association, cov: NDArray[np.bool_], cfg: MetricConfig
              ) -> tuple[int, int]:
    """(switches, swapped pairs): see the module docstring."""
    idx = np.flatnonzero(cov)
    if len(idx) == 0:
        return 0, 0
    tk, tr, t = tracks.track[idx], a.truth[idx], tracks.t_s[idx]
    o = np.lexsort((t, tk))
    tk, tr, t = tk[o], tr[o], t[o]
    new = np.ones(len(t), bool)
    new[1:] = (tk[1:] != tk[:-1]) | (tr[1:] != tr[:-1])
    start = np.flatnonzero(new)
    end = np.append(start[1:], len(t)) - 1
    keep = (end - start + 1) >= cfg.min_run
    r_tk, r_tr = tk[start][keep], tr[start][keep]
    r_t0, r_t1 = t[start][keep], t[end][keep]
    if len(r_tk) < 2:
        return 0, 0
    # merge equal neighbours (same track, same truth) left after dropping short runs
    same = (r_tk[1:] == r_tk[:-1]) & (r_tr[1:] == r_tr[:-1])
    first = np.ones(len(r_tk), bool)
    first[1:] = ~same
    grp = np.cumsum(first) - 1
    g_tk, g_tr = r_tk[first], r_tr[first]
    g_t0 = r_t0[first]
    g_t1 = np.zeros(int(grp[-1]) + 1)
    np.maximum.at(g_t1, grp, r_t1)
    sw = np.flatnonzero(g_tk[1:] == g_tk[:-1])            # consecutive runs of one track
    ev_from, ev_to = g_tr[sw], g_tr[sw + 1]
    ev_t = 0.5 * (g_t1[sw] + g_t0[sw + 1])
    ev_tk = g_tk[sw]
    window = cfg.swap_window_periods * cfg.period_s
    used = np.zeros(len(sw), bool)
    pairs = 0
    for i in np.argsort(ev_t, kind="stable").tolist():
        if used[i]:
            continue
        cand = np.flatnonzero(~used & (ev_from == ev_to[i]) & (ev_to == ev_from[i])
                              & (ev_tk != ev_tk[i]) & (np.abs(ev_t - ev_t[i]) <= window))
        if len(cand):
            c = cand[np.argmin(np.abs(ev_t[cand] - ev_t[i]))]
            used[i] = used[c] = True
            pairs += 1
    return len(sw), pairs


def per_target(tracks: TrackData, truth: TruthData, a: Association, cfg: MetricConfig
               ) -> dict[str, NDArray[np.float64] | NDArray[np.int64]]:
    """Per truth object: update count, RMS figures (NaN without updates), delays."""
    mobj = truth.n_objects
    m = a.associated & (tracks.status == CONFIRMED)
    obj = a.truth[m]
    e, n = a.err_east_m[m], a.err_north_m[m]
    cnt = np.bincount(obj, minlength=mobj)
    with np.errstate(invalid="ignore", divide="ignore"):
        rms = np.sqrt(np.bincount(obj, e * e + n * n, minlength=mobj) / cnt)
        tvx, tvy = a.truth_vx_mps[m], a.truth_vy_mps[m]
        sp = np.hypot(tvx, tvy)
        mv = sp >= cfg.min_speed_mps
        along = np.where(mv, (e * tvx + n * tvy) / np.where(mv, sp, 1.0), 0.0)
        across = np.where(mv, (-e * tvy + n * tvx) / np.where(mv, sp, 1.0), 0.0)
        cmv = np.bincount(obj, mv.astype(float), minlength=mobj)
        along_rms = np.sqrt(np.bincount(obj, along * along, minlength=mobj) / cmv)
        across_rms = np.sqrt(np.bincount(obj, across * across, minlength=mobj) / cmv)
        vx, vy = tracks.vx_mps[m], tracks.vy_mps[m]
        hv = np.isfinite(vx) & np.isfinite(vy)
        dv2 = np.where(hv, (vx - tvx) ** 2 + (vy - tvy) ** 2, 0.0)
        vel_rms = np.sqrt(np.bincount(obj, dv2, minlength=mobj)
                          / np.bincount(obj, hv.astype(float), minlength=mobj))
    t_first = truth.t_s[truth.starts[:-1]] if len(truth) else np.zeros(0)
    t_last = truth.t_s[truth.starts[1:] - 1] if len(truth) else np.zeros(0)
    first_any = np.full(mobj, np.inf)
    np.minimum.at(first_any, a.truth[a.associated], tracks.t_s[a.associated])
    first_conf = np.full(mobj, np.inf)
    np.minimum.at(first_conf, obj, tracks.t_s[m])
    ok = np.isfinite(first_conf)
    confirm_delay = np.full(mobj, np.nan)
    to_track = np.full(mobj, np.nan)
    confirm_delay[ok] = first_conf[ok] - first_any[ok]
    to_track[ok] = first_conf[ok] - t_first[ok]
    return {"n_updates": cnt.astype(np.int64), "position_rms_m": rms,
            "along_track_rms_m": along_rms, "across_track_rms_m": across_rms,
            "velocity_rms_mps": vel_rms, "t_first_s": t_first, "t_last_s": t_last,
            "confirmation_delay_s": confirm_delay, "time_to_track_s": to_track}
