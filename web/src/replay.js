/**
 * History replay for the time slider: loads `/api/v1/history?start=&end=` (rows of the
 * TRACKS columns: t_s, track_id, status, lat_deg, lon_deg, alt_ft, icao24, callsign,
 * vx_mps, vy_mps) and builds, for any time T in the window, the picture at T as a snapshot
 * batch in the stream Worker's format (packing.js), so the live code draws it unchanged.
 *
 * The picture at T holds, per track, its latest row with t_s ≤ T if that row is at most
 * HOLD_S old (found by binary search in the track's time-sorted rows); the shader then
 * dead-reckons from it with the row's velocity, exactly as live.
 */

import { getJson } from './api.js';
import { KT_TO_MPS } from './geo.js';
import { F_ALT, F_GS, F_ID, F_LAT, F_LON, F_STATUS, F_T, F_TRK, F_VR, NF, STATUS_CODES }
  from './packing.js';

/** A track is shown at T if its latest row is at most this old (s). */
export const HOLD_S = 30;
/** Most rows asked of the server for one window. */
export const HISTORY_LIMIT = 10000;

const FIELDS = ['t_s', 'track_id', 'status', 'lat_deg', 'lon_deg', 'alt_ft', 'icao24',
  'callsign', 'vx_mps', 'vy_mps'];

/** Row objects out of any of the shapes a history body may take. */
export function historyRows(body) {
  let rows = body;
  let columns = null;
  if (body && !Array.isArray(body) && typeof body === 'object') {
    rows = body.rows ?? body.history ?? body.tracks ?? [];
    columns = Array.isArray(body.columns) ? body.columns : null;
  }
  if (!Array.isArray(rows)) return [];
  const out = [];
  for (const r of rows) {
    if (Array.isArray(r)) {
      const names = columns ?? FIELDS;
      const o = {};
      names.forEach((k, i) => { o[k] = r[i]; });
      out.push(o);
    } else if (r && typeof r === 'object') {
      out.push(r);
    }
  }
  return out;
}

const toNum = (v) => (v === null || v === undefined || v === '' ? NaN : Number(v));

/** One loaded history window, queryable at any time inside it. */
export class HistoryWindow {
  constructor(start_s, end_s, rows) {
    this.start_s = start_s;
    this.end_s = end_s;
    const byTrack = new Map();
    for (const r of rows) {
      const t = toNum(r.t_s);
      const id = toNum(r.track_id);
      if (!Number.isFinite(t) || !Number.isFinite(id)) continue;
      let list = byTrack.get(id);
      if (!list) byTrack.set(id, (list = []));
      list.push(r);
    }
    this.tracks = [];
    for (const [id, list] of byTrack) {
      list.sort((a, b) => toNum(a.t_s) - toNum(b.t_s));
      this.tracks.push({ id, rows: list, t: Float64Array.from(list, (r) => toNum(r.t_s)) });
    }
    this.rowCount = rows.length;
  }

  /** The snapshot batch of the picture at `T_s`. */
  batchAt(T_s) {
    const rows = new Float64Array(this.tracks.length * NF);
    const meta = [];
    let n = 0;
    for (const tr of this.tracks) {
      let lo = 0;
      let hi = tr.t.length;                  // first index with t > T
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (tr.t[mid] <= T_s) lo = mid + 1; else hi = mid;
      }
      if (lo === 0 || T_s - tr.t[lo - 1] > HOLD_S) continue;
      const r = tr.rows[lo - 1];
      const o = n * NF;
      const vx = toNum(r.vx_mps);
      const vy = toNum(r.vy_mps);
      rows[o + F_ID] = tr.id;
      rows[o + F_LAT] = toNum(r.lat_deg);
      rows[o + F_LON] = toNum(r.lon_deg);
      if (!Number.isFinite(rows[o + F_LAT]) || !Number.isFinite(rows[o + F_LON])) continue;
      rows[o + F_ALT] = toNum(r.alt_ft);
      rows[o + F_GS] = Math.hypot(vx, vy) / KT_TO_MPS;
      rows[o + F_TRK] = ((Math.atan2(vx, vy) * 180) / Math.PI + 360) % 360;
      rows[o + F_VR] = NaN;
      rows[o + F_T] = tr.t[lo - 1];
      rows[o + F_STATUS] = STATUS_CODES[r.status] ?? 1;
      meta.push([tr.id, (r.callsign ?? '').toString().trim(), (r.icao24 ?? '').toString(), '',
        '']);
      n++;
    }
    return { type: 'snapshot', time: T_s, rows, n, remove: new Float64Array(0), meta };
  }
}

/** Loads the history window [start_s, end_s] from the server (null on failure). */
export async function loadHistory(start_s, end_s) {
  const body = await getJson('api/v1/history',
    { start: start_s.toFixed(3), end: end_s.toFixed(3), limit: HISTORY_LIMIT });
  if (body === null) return null;
  return new HistoryWindow(start_s, end_s, historyRows(body));
}
