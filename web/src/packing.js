/**
 * Packing of API TRACK objects (CONTRACTS.md, HTTP API v1) into flat numeric rows.
 *
 * The stream Worker parses the WebSocket JSON off the main thread and hands the page one
 * Float64Array per message (transferred, not copied) with NF numbers per track:
 *
 *   | index | field       | unit / encoding                                  |
 *   |-------|-------------|--------------------------------------------------|
 *   | 0     | track_id    | integer                                          |
 *   | 1     | lat_deg     | degrees                                          |
 *   | 2     | lon_deg     | degrees                                          |
 *   | 3     | alt_ft      | feet, NaN when unknown                           |
 *   | 4     | gs_kt       | knots, NaN when unknown                          |
 *   | 5     | track_deg   | degrees clockwise from true north, NaN unknown   |
 *   | 6     | vrate_fpm   | feet per minute, NaN when unknown                |
 *   | 7     | t_last_s    | UTC epoch seconds of the last update             |
 *   | 8     | status      | 0 tentative, 1 confirmed, 2 coasting             |
 *
 * Text fields (callsign, icao24, mode3a, sensors) change rarely; they travel separately as
 * `meta` entries `[track_id, callsign, icao24, mode3a, sensors]`, only when they changed.
 */

export const NF = 9;
export const F_ID = 0;
export const F_LAT = 1;
export const F_LON = 2;
export const F_ALT = 3;
export const F_GS = 4;
export const F_TRK = 5;
export const F_VR = 6;
export const F_T = 7;
export const F_STATUS = 8;

export const STATUS_CODES = { tentative: 0, confirmed: 1, coasting: 2 };
export const STATUS_NAMES = ['tentative', 'confirmed', 'coasting'];

function num(v) {
  return typeof v === 'number' ? v : NaN;
}

/** Writes one TRACK object into `out` at row `i`; false when it has no usable position. */
export function packTrack(t, out, i) {
  const lat = num(t.lat_deg);
  const lon = num(t.lon_deg);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || typeof t.track_id !== 'number') {
    return false;
  }
  const o = i * NF;
  out[o + F_ID] = t.track_id;
  out[o + F_LAT] = lat;
  out[o + F_LON] = lon;
  out[o + F_ALT] = num(t.alt_ft);
  out[o + F_GS] = num(t.gs_kt);
  out[o + F_TRK] = num(t.track_deg);
  out[o + F_VR] = num(t.vrate_fpm);
  out[o + F_T] = num(t.t_last_s);
  const s = STATUS_CODES[t.status];
  out[o + F_STATUS] = s === undefined ? 1 : s;
  return true;
}

/** The meta key of a TRACK: changes when any of its text fields changes. */
export function metaOf(t) {
  const sensors = Array.isArray(t.sensors) ? t.sensors.join(',') : '';
  return [t.track_id, t.callsign || '', t.icao24 || '', t.mode3a || '', sensors];
}

/**
 * Packs a list of TRACK objects: {rows: Float64Array, n, meta: [...]}. `seen` (Map
 * track_id → meta string) keeps the last meta sent per track, so unchanged text is not
 * sent again; pass a fresh Map to send everything.
 */
export function packTracks(tracks, seen) {
  const rows = new Float64Array(tracks.length * NF);
  const meta = [];
  let n = 0;
  for (let k = 0; k < tracks.length; k++) {
    const t = tracks[k];
    if (t === null || typeof t !== 'object' || !packTrack(t, rows, n)) continue;
    n++;
    const m = metaOf(t);
    const key = `${m[1]}|${m[2]}|${m[3]}|${m[4]}`;
    if (seen.get(t.track_id) !== key) {
      seen.set(t.track_id, key);
      meta.push(m);
    }
  }
  return { rows, n, meta };
}
