/**
 * The stream Worker: owns the WebSocket `WS /api/v1/stream`, parses its JSON off the main
 * thread and posts compact batches (packing.js) to the page.
 *
 * Why a Worker of its own: a 10,000-aircraft diff is ~2.5 MB of JSON; JSON.parse plus
 * walking it costs tens of milliseconds, which on the main thread would be a long task,
 * and in the render Worker would wait behind the frame being drawn. Here it waits for
 * nothing; the page receives a transferred Float64Array and a short list of changed text
 * fields, applies them, and hands the rows on to the render Worker.
 *
 * Messages from the page: {cmd: 'connect', url}. Messages to the page:
 *   {kind: 'status', connected: bool}
 *   {kind: 'batch', type: 'snapshot'|'diff', time, rows, n, remove, meta, recv_ms,
 *    parse_ms, bytes}
 * The socket reconnects with back-off (0.5 s doubling to 10 s); each new connection starts
 * with a snapshot, which replaces the page's whole state.
 */

import { packTracks } from './packing.js';

let url = null;
let socket = null;
let backoff_ms = 500;
let seen = new Map();

function connect() {
  if (url === null) return;
  let ws;
  try {
    ws = new WebSocket(url);
  } catch {
    retry();
    return;
  }
  socket = ws;
  ws.onopen = () => {
    backoff_ms = 500;
    seen = new Map();
    self.postMessage({ kind: 'status', connected: true });
  };
  ws.onmessage = (ev) => onMessage(ev.data);
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    self.postMessage({ kind: 'status', connected: false });
    retry();
  };
  ws.onerror = () => {};
}

function retry() {
  setTimeout(connect, backoff_ms);
  backoff_ms = Math.min(backoff_ms * 2, 10000);
}

function onMessage(data) {
  if (typeof data !== 'string') return;
  const recv_ms = Date.now();
  const t0 = performance.now();
  let msg;
  try {
    msg = JSON.parse(data);
  } catch {
    return;                                   // garbage: ignored, never fatal
  }
  if (msg === null || typeof msg !== 'object') return;
  let tracks;
  let removeList = [];
  if (msg.type === 'snapshot') {
    seen = new Map();
    tracks = Array.isArray(msg.tracks) ? msg.tracks : [];
  } else if (msg.type === 'diff') {
    tracks = Array.isArray(msg.upsert) ? msg.upsert : [];
    removeList = Array.isArray(msg.remove) ? msg.remove : [];
  } else {
    return;
  }
  const { rows, n, meta } = packTracks(tracks, seen);
  const remove = new Float64Array(removeList.length);
  for (let i = 0; i < removeList.length; i++) {
    remove[i] = Number(removeList[i]);
    seen.delete(remove[i]);
  }
  self.postMessage({
    kind: 'batch', type: msg.type, time: typeof msg.time === 'number' ? msg.time : NaN,
    rows, n, remove, meta, recv_ms, parse_ms: performance.now() - t0, bytes: data.length,
  }, [rows.buffer, remove.buffer]);
}

self.onmessage = (ev) => {
  const m = ev.data;
  if (m && m.cmd === 'connect') {
    url = m.url;
    if (socket) socket.close();
    connect();
  }
};
