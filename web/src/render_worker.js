/**
 * The render Worker: keeps its own copy of the aircraft store and draws the overlay
 * (overlay.js: symbols and labels) on the OffscreenCanvas the page hands it, every
 * animation frame, off the page's main thread.
 *
 * Why: with software rendering, every animated WebGL frame makes the thread that draws it
 * wait for the compositor (a "Commit" of 50-100+ ms per frame); on the main thread that
 * is a long task per frame, freezing input and MapLibre. Here only this Worker waits.
 *
 * Page → Worker: {cmd: 'init', canvas, fontUrl, halfSize, maxLabels} · {cmd: 'batch', batch} (a
 * stream batch, packing.js, applied when live) · {cmd: 'camera', cx, cy, zoom, W, H, dpr,
 * settled} · {cmd: 'select', id} · {cmd: 'labels', max} · {cmd: 'replay', batch, replay_s, rate} (draw this
 * picture from that time on) · {cmd: 'live', batch} (back to live from this snapshot) ·
 * {cmd: 'bench', on} · {cmd: 'probe', id} (read the next frame's pixels).
 * Worker → page: {kind: 'error', message} (no WebGL2 here) · {kind: 'labels', n} · {kind: 'bench', deltas, latencies_s, frames} ·
 * {kind: 'probe', id, w, h, pixels}.
 */

import { DataClock } from './clock.js';
import { altitudeText } from './geo.js';
import { LABEL_FONT_CSS } from './labels_gl.js';
import { OverlayRenderer } from './overlay.js';
import { AircraftStore } from './store.js';

const store = new AircraftStore();
const clock = new DataClock();
let overlay = null;
const latencies_s = [];
let bench = null;
let lastLayout_ms = 0;
let layoutDue = true;
let maxLabels = Infinity;

/** How many aircraft may get a label at a zoom (colliding ones are dropped first). */
export function labelLimit(zoom) {
  if (zoom < 5) return 100;
  if (zoom < 7) return 250;
  return 500;
}

let cand = new Float64Array(3 * 1024);

function layoutLabels() {
  if (!overlay) return;
  const { W, H, zoom } = overlay.camera;
  const now = clock.now_s() - store.t0_s;
  if (cand.length < 3 * (store.n + 1)) cand = new Float64Array(3 * (store.n + 1));
  let k = 0;
  const put = (s) => {
    const [x, y] = overlay.toScreen(store.xAt(s, now), store.yAt(s, now));
    if (x < -50 || x > W + 10 || y < -20 || y > H + 20) return;
    cand[3 * k] = s;
    cand[3 * k + 1] = x;
    cand[3 * k + 2] = y;
    k++;
  };
  const sel = store.slotOf(store.selectedId);
  if (sel >= 0) put(sel);
  for (let s = 0; s < store.n; s++) if (s !== sel) put(s);
  const n = overlay.labels.layout(store, cand, k, (s) => [
    store.callsign[s] || store.icao24[s] || `#${store.id[s]}`, altitudeText(store.alt[s])],
  Math.min(labelLimit(zoom), maxLabels), overlay.halfSize_px, sel);
  overlay.dirty = true;
  self.postMessage({ kind: 'labels', n });
}

let lastFrame = null;
function frame(t) {
  requestAnimationFrame(frame);
  if (bench && lastFrame !== null) bench.push(t - lastFrame);
  lastFrame = t;
  const wall = Date.now();
  if (overlay.labels.tex && (layoutDue || wall - lastLayout_ms > 1000)) {
    layoutDue = false;
    lastLayout_ms = wall;
    layoutLabels();
  }
  overlay.frame();
}

async function init(m) {
  try {
    overlay = new OverlayRenderer(m.canvas, store, clock, m.halfSize);
  } catch (e) {
    self.postMessage({ kind: 'error', message: String(e && e.message ? e.message : e) });
    return;
  }
  if (Number.isFinite(m.maxLabels)) maxLabels = m.maxLabels;
  requestAnimationFrame(frame);
  try {
    const face = new FontFace('Noto Sans', `url("${m.fontUrl}")`, { weight: '600' });
    self.fonts.add(face);
    await face.load();
    await self.fonts.load(LABEL_FONT_CSS);
  } catch { /* no font: the atlas falls back to the browser's sans-serif */ }
  overlay.labels.buildAtlas();
  layoutDue = true;
}

self.onmessage = (ev) => {
  const m = ev.data;
  if (!m) return;
  switch (m.cmd) {
    case 'init':
      init(m);
      break;
    case 'camera':
      if (overlay) overlay.setCamera(m);
      if (m.settled) layoutDue = true;
      break;
    case 'batch':
      if (clock.mode === 'live') {
        const newest = store.apply(m.batch);
        clock.observe(m.batch.time, m.batch.recv_ms);
        if (bench && Number.isFinite(newest)) latencies_s.push(Date.now() / 1000 - newest);
      }
      break;
    case 'labels':
      maxLabels = m.max;
      layoutDue = true;
      break;
    case 'select':
      store.select(m.id);
      layoutDue = true;
      break;
    case 'replay':
      clock.setReplay(m.replay_s, m.rate);
      store.apply(m.batch);
      layoutDue = true;
      break;
    case 'live':
      clock.setLive();
      store.apply(m.batch);
      layoutDue = true;
      break;
    case 'bench':
      if (m.on) {
        bench = [];
        lastFrame = null;
        latencies_s.length = 0;
      } else {
        self.postMessage({ kind: 'bench', deltas: bench || [], latencies_s: latencies_s.slice(),
          frames: overlay ? overlay.frames : 0 });
        bench = null;
      }
      break;
    case 'probe':
      if (!overlay) break;
      overlay.onceDrawn((gl) => {
        const w = gl.drawingBufferWidth;
        const h = gl.drawingBufferHeight;
        const px = new Uint8Array(w * h * 4);
        gl.readPixels(0, 0, w, h, gl.RGBA, gl.UNSIGNED_BYTE, px);
        self.postMessage({ kind: 'probe', id: m.id, w, h, pixels: px }, [px.buffer]);
      });
      break;
    default:
      break;
  }
};
