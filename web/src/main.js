/**
 * The skyfuse live map: MapLibre GL with an offline basemap, and an aircraft overlay (an
 * OffscreenCanvas drawn by the render Worker, render_worker.js) above it.
 *
 * Data flow: the stream Worker (stream_worker.js) owns the WebSocket and parses the JSON
 * into packed batches (packing.js); this page applies each to its typed-array store
 * (store.js: the count, picking, the details panel) and hands it on (transferred) to the
 * render Worker, which applies it to its own copy and draws every frame, the vertex shader
 * dead-reckoning every position to the frame's time (aircraft_gl.js; labels, labels_gl.js,
 * follow their aircraft the same way and are laid out once a second). The page tells the
 * render Worker the map's camera on every move, the selection, and the picture to show
 * while replaying history. MapLibre only repaints when its camera, the trail or the
 * sensors change, and the page's main thread never waits for an animated WebGL frame.
 *
 * Clock (clock.js): the page shows data time — live, the wall clock plus the smoothed
 * offset of the messages' data time; replaying, the slider's time.
 * `window.__skyfuse` exposes state and counters for the tests and the load benchmark.
 *
 * Query parameters: `token` (passed on to every request, the Worker and the WebSocket),
 * `tiles` (an online raster tile URL template), `lat`, `lon`, `zoom` (initial view;
 * otherwise the map fits the first snapshot's aircraft), `labels` (most aircraft labels).
 */

import * as maplibregl from 'maplibre-gl';

import { getJson, listOf, query, streamUrl, withToken } from './api.js';
import { DataClock } from './clock.js';
import { latOfMercY, lonOfMercX, mercX, mercY } from './geo.js';
import { drawLegend, loadSensors, refreshFeeds, showCount, showDetails } from './panels.js';
import { packTracks } from './packing.js';
import { loadHistory } from './replay.js';
import { AircraftStore, INST } from './store.js';
import { buildStyle, labelLayers } from './style.js';

const SYMBOL_HALF_SIZE_PX = 9;
const PICK_RADIUS_PX = 14;
const RING = 600;

maplibregl.setWorkerUrl(withToken(new URL('maplibre-gl-worker.mjs', import.meta.url).href));
const fontUrl = (weight) => withToken(new URL(`fonts/noto-sans-latin-${weight}-normal.woff2`,
  import.meta.url).href);
for (const weight of ['400', '600']) {               // the page's UI font, shipped
  const face = new FontFace('Noto Sans', `url("${fontUrl(weight)}")`, { weight });
  document.fonts.add(face);
  face.load().catch(() => {});
}

const store = new AircraftStore();
const clock = new DataClock();
const stats = {
  ready: false, connected: false, batches: 0, bytes: 0, count: 0, mode: 'live',
  latencies_s: [], arrival_s: [], parse_ms: [], apply_ms: [], longTasks: [], labels: 0,
};
let speed = 10;
let playing = false;

function pushRing(a, v) {
  a.push(v);
  if (a.length > RING) a.shift();
}

// --- map -------------------------------------------------------------------------------

const explicitView = query.has('lat') && query.has('lon');
const zoom0 = Number(query.get('zoom'));
const map = new maplibregl.Map({
  container: 'map',
  style: buildStyle(query.get('tiles')),
  center: explicitView ? [Number(query.get('lon')), Number(query.get('lat'))] : [8, 48],
  zoom: query.has('zoom') && Number.isFinite(zoom0) ? zoom0 : 4,
  maxZoom: 13,
  dragRotate: false,
  pitchWithRotate: false,
  touchPitch: false,
  renderWorldCopies: false,
  fadeDuration: 0,
  transformRequest: (url) => ({ url: withToken(url) }),
  attributionControl: { compact: true, customAttribution: 'Natural Earth (world-atlas)' },
});
map.touchZoomRotate.disableRotation();
map.keyboard.disableRotation();

// --- the render Worker -------------------------------------------------------------------

const canvas = document.createElement('canvas');
canvas.id = 'aircraft-canvas';
canvas.className = 'aircraft-canvas';
map.getCanvasContainer().appendChild(canvas);
const worker = new Worker(withToken(new URL('render-worker.js', import.meta.url).href),
  { type: 'module' });
const stream = new Worker(withToken(new URL('stream-worker.js', import.meta.url).href),
  { type: 'module' });

function sendCamera(settled) {
  const mc = map.getCanvas();
  const c = map.getCenter();
  const W = mc.clientWidth;
  const H = mc.clientHeight;
  canvas.style.width = `${W}px`;
  canvas.style.height = `${H}px`;
  worker.postMessage({ cmd: 'camera', cx: mercX(c.lng), cy: mercY(c.lat), zoom: map.getZoom(),
    W, H, dpr: window.devicePixelRatio || 1, settled });
}

const probes = new Map();
let probeId = 0;
let benchDone = null;

let fitted = explicitView;

function apply(batch, wall_ms) {
  const t0 = performance.now();
  const newest = store.apply(batch);
  const applied_ms = Date.now();
  if (clock.mode === 'live') clock.observe(batch.time, wall_ms);
  if (Number.isFinite(newest)) {
    pushRing(stats.latencies_s, applied_ms / 1000 - newest);
    pushRing(stats.arrival_s, wall_ms / 1000 - newest);     // the server + network part
  }
  pushRing(stats.apply_ms, performance.now() - t0);
  stats.count = store.n;
  showCount(store.n, clock.mode);
  if (!fitted && store.n > 0) fitToAircraft();
  if (store.selectedId !== null) showDetails(store, store.slotOf(store.selectedId));
}

stream.onmessage = (ev) => {
  const m = ev.data;
  if (m.kind === 'status') {
    stats.connected = m.connected;
    const conn = document.getElementById('conn');
    conn.dataset.connected = String(m.connected);
    conn.textContent = m.connected ? 'live' : 'reconnecting…';
    return;
  }
  if (m.kind !== 'batch') return;
  stats.batches++;
  stats.bytes += m.bytes;
  pushRing(stats.parse_ms, m.parse_ms);
  if (clock.mode !== 'live') return;              // replaying: live waits, resyncs later
  apply(m, m.recv_ms);
  worker.postMessage({ cmd: 'batch', batch: m }, [m.rows.buffer, m.remove.buffer]);
};

worker.onmessage = (ev) => {
  const m = ev.data;
  switch (m.kind) {
    case 'labels':
      stats.labels = m.n;
      break;
    case 'error':
      showError(`cannot draw the aircraft: ${m.message}`);
      break;
    case 'probe': {
      const resolve = probes.get(m.id);
      probes.delete(m.id);
      if (resolve) resolve(m);
      break;
    }
    case 'bench':
      if (benchDone) benchDone(m);
      benchDone = null;
      break;
    default:
      break;
  }
};

function showError(text) {
  const conn = document.getElementById('conn');
  conn.dataset.error = text;
  conn.textContent = text;
  conn.dataset.connected = 'false';
}

function fitToAircraft() {
  fitted = true;
  let x0 = Infinity; let y0 = Infinity; let x1 = -Infinity; let y1 = -Infinity;
  for (let s = 0; s < store.n; s++) {
    const x = store.inst[s * INST];
    const y = store.inst[s * INST + 1];
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  const pad = Math.max(x1 - x0, y1 - y0, 0.002) * 0.15;
  map.fitBounds([[lonOfMercX(x0 - pad), latOfMercY(y1 + pad)],
    [lonOfMercX(x1 + pad), latOfMercY(y0 - pad)]], { animate: false, maxZoom: 9 });
}

// --- selection and trail -----------------------------------------------------------------

async function refreshTrail() {
  const id = store.selectedId;
  const src = map.getSource('trail');
  if (id === null) {
    src.setData({ type: 'FeatureCollection', features: [] });
    return;
  }
  const body = await getJson(`api/v1/tracks/${id}`);
  if (store.selectedId !== id || body === null || !Array.isArray(body.trail)) return;
  const coords = body.trail.filter((p) => Array.isArray(p) && Number.isFinite(p[1])
    && Number.isFinite(p[2])).map((p) => [p[2], p[1]]);
  src.setData({ type: 'FeatureCollection', features: coords.length < 2 ? [] : [
    { type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: coords } }] });
  document.getElementById('details').dataset.trailPoints = String(coords.length);
}

function select(id) {
  store.select(id);
  worker.postMessage({ cmd: 'select', id });
  showDetails(store, store.slotOf(id));
  refreshTrail();
}

map.on('click', (e) => {
  const ws = 512 * 2 ** map.getZoom();
  const s = store.pick(mercX(e.lngLat.lng), mercY(e.lngLat.lat), clock.now_s() - store.t0_s,
    PICK_RADIUS_PX / ws);
  select(s >= 0 ? store.id[s] : null);
});
document.getElementById('details-close').onclick = () => select(null);

// --- replay ------------------------------------------------------------------------------

const slider = document.getElementById('time-slider');
const timeText = document.getElementById('time-text');
let history = null;
let replayTimer = null;

function windowS() {
  return Number(document.getElementById('time-window').value) * 60;
}

function showReplayFrame() {
  if (!history) return;
  const T = clock.now_s();
  const batch = history.batchAt(T);
  store.apply(batch);
  worker.postMessage({ cmd: 'replay', batch, replay_s: T, rate: playing ? speed : 0 });
  stats.count = store.n;
  showCount(store.n, 'replay');
  timeText.textContent = `${new Date(T * 1000).toISOString().slice(11, 19)} UTC`;
  slider.value = String(Math.round(1000 * (T - history.start_s)
    / Math.max(history.end_s - history.start_s, 1)));
}

async function enterReplay() {
  if (clock.mode !== 'replay' || history === null) {
    const end = clock.now_s();
    stats.mode = 'replay';
    document.body.dataset.mode = 'replay';
    clock.setReplay(end, 0);
    history = await loadHistory(end - windowS(), end);
    document.getElementById('replay').dataset.rows = String(history ? history.rowCount : 0);
    if (!history) {                                   // no store (503) or unreachable
      await backToLive();
      timeText.textContent = 'no history';
      return;
    }
  }
  clock.setReplay(history.start_s
    + (Number(slider.value) / 1000) * (history.end_s - history.start_s), playing ? speed : 0);
  showReplayFrame();
}

async function backToLive() {
  setPlaying(false);
  history = null;
  slider.value = '1000';
  timeText.textContent = 'live';
  const body = await getJson('api/v1/tracks');
  const { rows, n, meta } = packTracks(listOf(body, 'tracks'), new Map());
  const batch = { type: 'snapshot', time: body ? body.time : NaN, rows, n,
    remove: new Float64Array(0), meta };
  clock.setLive();
  stats.mode = 'live';
  document.body.dataset.mode = 'live';
  apply(batch, Date.now());
  worker.postMessage({ cmd: 'live', batch });
}

function setPlaying(on) {
  if (clock.mode === 'replay') clock.setReplay(clock.now_s(), on ? speed : 0);
  playing = on;
  document.getElementById('play').textContent = on ? '❚❚' : '▶';
  if (replayTimer) clearInterval(replayTimer);
  replayTimer = null;
  if (!on) return;
  replayTimer = setInterval(() => {
    if (history && clock.now_s() >= history.end_s) {
      backToLive();
      return;
    }
    showReplayFrame();
  }, 1000);
}

slider.addEventListener('input', () => {
  if (Number(slider.value) >= 1000 && clock.mode === 'live') return;
  enterReplay();
});
document.getElementById('live').onclick = () => backToLive();
document.getElementById('play').onclick = async () => {
  if (clock.mode !== 'replay') {
    slider.value = '0';
    await enterReplay();
  }
  setPlaying(!playing);
};
document.getElementById('speed').onchange = (e) => {
  speed = Number(e.target.value);
  if (playing) setPlaying(true);
};
document.getElementById('time-window').onchange = () => {
  if (clock.mode === 'replay') {
    history = null;
    clock.setLive();
    enterReplay();
  }
};

// --- start -------------------------------------------------------------------------------

if ('PerformanceObserver' in window) {
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) pushRing(stats.longTasks, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  } catch { /* not supported: the benchmark measures with its own observer */ }
}

map.on('load', () => {
  for (const layer of labelLayers()) map.addLayer(layer);
  if (canvas.transferControlToOffscreen) {
    const offscreen = canvas.transferControlToOffscreen();
    const maxLabels = query.has('labels') ? Number(query.get('labels')) : Infinity;
    worker.postMessage({ cmd: 'init', canvas: offscreen, fontUrl: fontUrl('600'),
      halfSize: SYMBOL_HALF_SIZE_PX, maxLabels }, [offscreen]);
  } else {
    showError('this browser cannot draw the aircraft (needs OffscreenCanvas and WebGL2)');
  }
  stream.postMessage({ cmd: 'connect', url: streamUrl() });
  sendCamera(true);
  map.on('move', () => sendCamera(false));
  map.on('moveend', () => sendCamera(true));
  map.on('resize', () => sendCamera(true));
  drawLegend();
  loadSensors(map);
  refreshFeeds();
  setInterval(refreshFeeds, 5000);
  setInterval(() => loadSensors(map), 60000);
  setInterval(() => {
    if (store.selectedId !== null) showDetails(store, store.slotOf(store.selectedId));
  }, 1000);
  setInterval(() => { if (store.selectedId !== null && clock.mode === 'live') refreshTrail(); },
    5000);
  stats.ready = true;
  document.body.dataset.ready = 'true';
});

/** Screen position (CSS px) of a track now, or null: for tests and the benchmark. */
function screenPosition(id) {
  const s = store.slotOf(id);
  if (s < 0) return null;
  const now = clock.now_s() - store.t0_s;
  const p = map.project([lonOfMercX(store.xAt(s, now)), latOfMercY(store.yAt(s, now))]);
  return [p.x, p.y];
}

/** RGBA of the overlay's next frame at CSS-pixel points (device pixel ratio 1). */
function probe(points) {
  return new Promise((resolve) => {
    const id = ++probeId;
    probes.set(id, ({ w, h, pixels }) => resolve(points.map(([x, y]) => {
      const o = ((h - 1 - Math.round(y)) * w + Math.round(x)) * 4;
      return Array.from(pixels.subarray(o, o + 4));
    })));
    worker.postMessage({ cmd: 'probe', id });
  });
}

/** Starts, or (`on` false) stops and returns, the overlay's frame intervals (ms). */
function benchFrames(on) {
  if (on) {
    worker.postMessage({ cmd: 'bench', on: true });
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    benchDone = resolve;
    worker.postMessage({ cmd: 'bench', on: false });
  });
}

window.__skyfuse = {
  stats, store, map, clock, screenPosition, probe, benchFrames, select,
  setMaxLabels: (max) => worker.postMessage({ cmd: 'labels', max }),
  trackIds: () => Array.from(store.id.subarray(0, store.n)),
};
