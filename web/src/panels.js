/**
 * The page's panels: aircraft count, altitude legend, details of the selected aircraft,
 * feed status (`/api/v1/sources`) and sensors (`/api/v1/sensors`: dots, names, coverage
 * circles). Server text is only ever set with textContent (never parsed as HTML).
 */

import { getJson, listOf } from './api.js';
import { ALT_STOPS, UNKNOWN_ALT_RGB } from './aircraft_gl.js';
import { altitudeText, circleRing } from './geo.js';
import { STATUS_NAMES } from './packing.js';

const $ = (id) => document.getElementById(id);

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

const rgb = (c) => `rgb(${c.map((v) => Math.round(v * 255)).join(',')})`;

/** Shows the aircraft count (text and `data-count`, which tests read). */
export function showCount(n, mode) {
  const c = $('count');
  if (c.dataset.count === String(n) && c.dataset.mode === mode) return;
  c.dataset.count = String(n);
  c.dataset.mode = mode;
  c.textContent = `${n.toLocaleString('en')} aircraft${mode === 'live' ? '' : ' (replay)'}`;
}

/** Draws the altitude colour legend from the shader's own ramp. */
export function drawLegend() {
  const bar = $('legend-bar');
  const top = ALT_STOPS[ALT_STOPS.length - 1][0];
  const stops = ALT_STOPS.map(([a, c]) => `${rgb(c)} ${(100 * a) / top}%`);
  bar.style.background = `linear-gradient(to right, ${stops.join(', ')})`;
  const ticks = $('legend-ticks');
  ticks.replaceChildren(...ALT_STOPS.map(([a]) => el('span', a === 0 ? '0' : `FL${a / 100}`)));
  $('legend-unknown').style.background = rgb(UNKNOWN_ALT_RGB);
}

function fmt(v, digits, unit) {
  return Number.isFinite(v) ? `${v.toFixed(digits)} ${unit}` : '—';
}

/** Fills the details panel from the store's slot `s` (or hides it when s < 0). */
export function showDetails(store, s) {
  const panel = $('details');
  if (s < 0) {
    panel.hidden = true;
    delete panel.dataset.trackId;
    return;
  }
  panel.hidden = false;
  panel.dataset.trackId = String(store.id[s]);
  const age_s = Date.now() / 1000 - store.tlast[s];
  const rows = [
    ['Callsign', store.callsign[s] || '—'],
    ['ICAO 24-bit', store.icao24[s] || '—'],
    ['Track ID', String(store.id[s])],
    ['Status', STATUS_NAMES[store.status[s]] || '?'],
    ['Altitude', Number.isFinite(store.alt[s])
      ? `${altitudeText(store.alt[s])} (${Math.round(store.alt[s])} ft)` : '—'],
    ['Ground speed', fmt(store.gs[s], 0, 'kt')],
    ['Track', fmt(store.trk[s], 0, '°')],
    ['Vertical rate', fmt(store.vr[s], 0, 'ft/min')],
    ['Position', `${store.lat[s].toFixed(4)}, ${store.lon[s].toFixed(4)}`],
    ['Mode A', store.mode3a[s] || '—'],
    ['Sensors', store.sensors[s] ? store.sensors[s].split(',').join(', ') : '—'],
    ['Last update', `${new Date(store.tlast[s] * 1000).toISOString().slice(11, 19)} UTC`
      + (Math.abs(age_s) < 86400 ? ` (${Math.max(0, age_s).toFixed(0)} s ago)` : '')],
  ];
  $('details-callsign').textContent = store.callsign[s] || store.icao24[s] || `#${store.id[s]}`;
  const table = $('details-table');
  table.replaceChildren(...rows.map(([k, v]) => {
    const tr = el('tr');
    tr.append(el('th', k), el('td', v));
    return tr;
  }));
}

/** Refreshes the feed status table from /api/v1/sources. */
export async function refreshFeeds() {
  const body = await getJson('api/v1/sources');
  const feeds = listOf(body, 'sources');
  const table = $('feeds-table');
  if (body === null) {
    table.replaceChildren(el('tr', 'feed status unavailable'));
    return;
  }
  const now = Date.now() / 1000;
  table.replaceChildren(...feeds.map((f) => {
    const tr = el('tr');
    const up = f.connected !== false;
    const dot = el('span', up ? '●' : '○', up ? 'ok' : 'down');
    const name = el('td');
    name.append(dot, ` ${f.name ?? '?'}`);
    const seen = Number.isFinite(f.last_seen_s) && Math.abs(now - f.last_seen_s) < 86400
      ? `${Math.max(0, now - f.last_seen_s).toFixed(0)} s` : '—';
    tr.append(name, el('td', String(f.kind ?? '')),
      el('td', Number.isFinite(f.rate_hz) ? `${f.rate_hz.toFixed(1)}/s` : '—'),
      el('td', `${f.frames ?? 0}${f.bad_frames ? ` (${f.bad_frames} bad)` : ''}`),
      el('td', seen));
    return tr;
  }));
  $('feeds').dataset.feeds = String(feeds.length);
}

/** Loads /api/v1/sensors into the map's sensor and coverage sources. */
export async function loadSensors(map) {
  const sensors = listOf(await getJson('api/v1/sensors'), 'sensors');
  const dots = [];
  const rings = [];
  for (const s of sensors) {
    if (!Number.isFinite(s.lat_deg) || !Number.isFinite(s.lon_deg)) continue;
    dots.push({ type: 'Feature', properties: { name: String(s.name ?? ''), kind: s.kind ?? '' },
      geometry: { type: 'Point', coordinates: [s.lon_deg, s.lat_deg] } });
    if (Number.isFinite(s.range_nm) && s.range_nm > 0) {
      rings.push({ type: 'Feature', properties: { name: String(s.name ?? '') },
        geometry: { type: 'LineString',
          coordinates: circleRing(s.lat_deg, s.lon_deg, s.range_nm * 1852) } });
    }
  }
  map.getSource('sensors').setData({ type: 'FeatureCollection', features: dots });
  map.getSource('coverage').setData({ type: 'FeatureCollection', features: rings });
  document.getElementById('map').dataset.sensors = String(dots.length);
}
