/**
 * The aircraft overlay renderer: symbols and labels on their own WebGL2 canvas over the
 * MapLibre canvas, redrawn every animation frame — in the render Worker (render_worker.js)
 * on an OffscreenCanvas, so neither the drawing nor the compositor's wait for each frame
 * ever blocks the page's main thread.
 *
 * Why not a MapLibre custom layer: a custom layer that animates must call
 * `triggerRepaint()` every frame, and then MapLibre redraws the whole style (basemap fill,
 * coastlines, text) every frame too — in software rendering most of the frame. Here a frame
 * costs what the aircraft cost: one instanced draw for the symbols (aircraft_gl.js) and one
 * for their labels (labels_gl.js); MapLibre repaints only when its camera or sources change.
 *
 * Camera: the page sends the map's centre and zoom on every move. The map never rotates
 * or pitches (main.js disables both), so Web Mercator → screen is affine: with c the
 * mercator centre, z the zoom and ws = 512 · 2^z the world width in CSS pixels,
 *
 *     screen = (p − c) · ws + (W/2, H/2)
 *     clip   = (2 · screen.x / W − 1,  1 − 2 · screen.y / H)
 *
 * i.e. clip = M · (p, 0, 1) with M (column-major) below. Float32 mercator coordinates have
 * 6e-8 resolution, 0.25 px at the maximum zoom (13).
 */

import { AircraftRenderer } from './aircraft_gl.js';
import { LabelRenderer } from './labels_gl.js';

/** Draws a store's aircraft and labels for a camera, once per `frame()` call. */
export class OverlayRenderer {
  constructor(canvas, store, clock, halfSize_px) {
    this.canvas = canvas;
    this.store = store;
    this.clock = clock;
    this.halfSize_px = halfSize_px;
    const gl = canvas.getContext('webgl2', { alpha: true, premultipliedAlpha: true,
      antialias: false, depth: false, stencil: false });
    if (!gl) throw new Error('WebGL2 is not available for the aircraft overlay');
    this.gl = gl;
    this.renderer = new AircraftRenderer(gl);
    this.labels = new LabelRenderer(gl);
    this.matrix = new Float32Array(16);
    this.matrix[10] = 1;
    this.matrix[15] = 1;
    this.camera = { cx: 0.5, cy: 0.5, zoom: 0, W: 1, H: 1, dpr: 1 };
    this.uploaded = -1;
    this.dirty = true;
    this.afterDraw = [];
    this.frames = 0;
  }

  /** Sets the view: mercator centre (cx, cy), zoom, CSS size W × H, device pixel ratio. */
  setCamera(cam) {
    const sized = cam.W !== this.camera.W || cam.H !== this.camera.H
      || cam.dpr !== this.camera.dpr;
    this.camera = cam;
    if (sized) {
      this.canvas.width = Math.max(1, Math.round(cam.W * cam.dpr));
      this.canvas.height = Math.max(1, Math.round(cam.H * cam.dpr));
    }
    this.dirty = true;
  }

  /** Screen position (CSS px) of mercator (x, y) for the current camera. */
  toScreen(x, y) {
    const { cx, cy, zoom, W, H } = this.camera;
    const ws = 512 * 2 ** zoom;
    return [(x - cx) * ws + W / 2, (y - cy) * ws + H / 2];
  }

  /** Calls `fn(gl)` once, right after the next frame is drawn (tests read pixels there). */
  onceDrawn(fn) {
    this.afterDraw.push(fn);
  }

  /** Draws one frame (skipped when nothing is shown and nothing changed). */
  frame() {
    const { gl, store } = this;
    if (store.version !== this.uploaded) {
      this.renderer.upload(store.inst, store.n);
      this.uploaded = store.version;
      this.dirty = true;
    }
    if (store.n === 0 && !this.dirty && this.afterDraw.length === 0) return;
    const { cx, cy, zoom, W, H } = this.camera;
    const ws = 512 * 2 ** zoom;
    const m = this.matrix;
    m[0] = (2 * ws) / W;                    // clip.x = 2·ws/W · (x − cx)
    m[5] = (-2 * ws) / H;                   // clip.y = −2·ws/H · (y − cy)
    m[12] = (-2 * ws * cx) / W;
    m[13] = (2 * ws * cy) / H;
    gl.viewport(0, 0, gl.drawingBufferWidth, gl.drawingBufferHeight);
    gl.clearColor(0, 0, 0, 0);
    gl.clear(gl.COLOR_BUFFER_BIT);
    const now = this.clock.now_s() - store.t0_s;
    this.labels.draw(m, now, W, H);
    this.renderer.draw(m, now, W, H, this.halfSize_px);
    this.dirty = false;
    this.frames++;
    if (this.afterDraw.length) {
      const fns = this.afterDraw;
      this.afterDraw = [];
      for (const fn of fns) fn(gl);
    }
  }
}
