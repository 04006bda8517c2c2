/**
 * Aircraft labels on the WebGL overlay: instanced glyph quads that follow their aircraft.
 *
 * Why not a MapLibre symbol layer: its labels are placed at fixed coordinates, so moving
 * labels mean a `setData` every second, and every `setData` makes MapLibre re-tile the
 * source and repaint the whole style — in software rendering that quartered the frame
 * rate. Here a label is a run of glyph instances anchored to its aircraft's dead-reckoned
 * position in the vertex shader (the same formula as aircraft_gl.js), so labels move with
 * the symbols every frame at no CPU cost; the instance list is rebuilt once a second.
 *
 * Glyphs: printable ASCII drawn once into a texture with Canvas 2D from the shipped
 * Noto Sans SemiBold (the file MapLibre's `font-faces` names for the sensor labels); red
 * holds the glyph, green its halo (a 3 px stroke). Decluttering: every symbol on screen
 * first occupies its square; then candidates in priority order (the selected aircraft
 * first, placed regardless) take their box if it overlaps nothing placed before (a 64 px
 * grid finds the neighbours), up to `limit` labels. Where 10,000 aircraft crowd the
 * screen, few labels fit; zoomed in, most aircraft get one. (Labels cost fragment work
 * in software rendering — about as much per glyph as a symbol — hence both limits.)
 *
 * The anchor is snapped to a whole pixel so that text stays crisp while it moves.
 *
 * Instance layout (GLYPH floats): x, y, vx, vy, t_ref (as store.js), offset_x, offset_y
 * (px from the aircraft to the glyph's top-left corner, y down), atlas cell index, width
 * px.
 */

import { linkProgram } from './gl_program.js';
import { MAX_EXTRAPOLATION_S } from './store.js';

const FIRST = 32;
const LAST = 126;
const COLS = 32;
const CELL_W = 16;
const CELL_H = 20;
const FONT_PX = 11;
const LINE_PX = 13;
const GLYPH = 9;
const GRID_PX = 64;
export const LABEL_FONT_CSS = `600 ${FONT_PX}px "Noto Sans"`;

const VERTEX = `#version 300 es
precision highp float;
layout(location = 0) in vec2 a_corner;          // 0..1
layout(location = 1) in vec4 a_pos_vel;
layout(location = 2) in vec4 a_misc;            // t_ref, offset_x, offset_y, cell
layout(location = 3) in float a_width;
uniform mat4 u_matrix;
uniform float u_now;
uniform vec2 u_px_to_clip;
uniform vec2 u_atlas_cells;                     // columns, rows
out vec2 v_uv;
void main() {
  float dt = clamp(u_now - a_misc.x, 0.0, ${MAX_EXTRAPOLATION_S.toFixed(1)});
  vec4 c = u_matrix * vec4(a_pos_vel.xy + a_pos_vel.zw * dt, 0.0, 1.0);
  vec2 viewport = 2.0 / u_px_to_clip;                       // W, H in px
  c.xy = (floor((c.xy / c.w * 0.5 + 0.5) * viewport + 0.5) / viewport * 2.0 - 1.0) * c.w;
  vec2 size = vec2(a_width, ${CELL_H.toFixed(1)});
  vec2 px = vec2(a_misc.y, a_misc.z) + a_corner * size;     // screen px, y down
  c.xy += vec2(px.x, -px.y) * u_px_to_clip * c.w;
  gl_Position = c;
  float col = mod(a_misc.w, u_atlas_cells.x);
  float row = floor(a_misc.w / u_atlas_cells.x);
  v_uv = (vec2(col, row) * vec2(${CELL_W.toFixed(1)}, ${CELL_H.toFixed(1)})
          + a_corner * size) / (u_atlas_cells * vec2(${CELL_W.toFixed(1)}, ${CELL_H.toFixed(1)}));
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
uniform sampler2D u_atlas;
in vec2 v_uv;
out vec4 o_color;
void main() {
  vec2 g = texture(u_atlas, v_uv).rg;                      // glyph, halo
  float a = max(g.r, g.g * 0.9);
  if (a < 0.02) discard;
  vec3 text = vec3(0.91, 0.93, 0.95);
  vec3 halo = vec3(0.05, 0.11, 0.16);
  vec3 col = mix(halo, text, g.r / max(a, 1e-3));
  o_color = vec4(col * a, a);                              // premultiplied alpha
}`;

/** Glyph atlas + instanced label drawing for one WebGL2 context. */
export class LabelRenderer {
  constructor(gl) {
    this.gl = gl;
    const prog = linkProgram(gl, VERTEX, FRAGMENT, 'label');
    this.prog = prog;
    this.u = {};
    for (const n of ['u_matrix', 'u_now', 'u_px_to_clip', 'u_atlas_cells', 'u_atlas']) {
      this.u[n] = gl.getUniformLocation(prog, n);
    }
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const quad = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, quad);
    gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1]),
      gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    this.buf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf);
    const stride = GLYPH * 4;
    for (const [loc, size, off] of [[1, 4, 0], [2, 4, 16], [3, 1, 32]]) {
      gl.enableVertexAttribArray(loc);
      gl.vertexAttribPointer(loc, size, gl.FLOAT, false, stride, off);
      gl.vertexAttribDivisor(loc, 1);
    }
    gl.bindVertexArray(null);
    this.data = new Float32Array(GLYPH * 4096);
    this.capacity = 0;
    this.n = 0;
    this.labels = 0;
    this.tex = null;
    this.advance = new Float32Array(LAST + 1);
    this.rows = Math.ceil((LAST - FIRST + 1) / COLS);
    this.grid = new Map();
  }

  /** Draws the glyph atlas (call once the font has loaded). */
  buildAtlas() {
    const w = COLS * CELL_W;
    const h = this.rows * CELL_H;
    const draw = (halo) => {
      const c = new OffscreenCanvas(w, h);                    // works in a Worker too
      const g = c.getContext('2d', { willReadFrequently: true });
      g.font = LABEL_FONT_CSS;
      g.textBaseline = 'middle';
      g.lineJoin = 'round';
      g.lineWidth = 3;
      g.fillStyle = '#fff';
      g.strokeStyle = '#fff';
      for (let code = FIRST; code <= LAST; code++) {
        const i = code - FIRST;
        const x = (i % COLS) * CELL_W + 2;
        const y = Math.floor(i / COLS) * CELL_H + CELL_H / 2;
        const ch = String.fromCharCode(code);
        if (halo) g.strokeText(ch, x, y);
        g.fillText(ch, x, y);
        this.advance[code] = g.measureText(ch).width;
      }
      return g.getImageData(0, 0, w, h).data;
    };
    const fill = draw(false);
    const halo = draw(true);
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      rgba[i * 4] = fill[i * 4 + 3];
      rgba[i * 4 + 1] = halo[i * 4 + 3];
      rgba[i * 4 + 3] = 255;
    }
    const gl = this.gl;
    this.tex = gl.createTexture();
    gl.bindTexture(gl.TEXTURE_2D, this.tex);
    gl.texImage2D(gl.TEXTURE_2D, 0, gl.RGBA8, w, h, 0, gl.RGBA, gl.UNSIGNED_BYTE, rgba);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);   // texel-aligned
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_S, gl.CLAMP_TO_EDGE);
    gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_WRAP_T, gl.CLAMP_TO_EDGE);
  }

  _textWidth(text) {
    let w = 0;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      w += c >= FIRST && c <= LAST ? this.advance[c] : this.advance[63];
    }
    return w;
  }

  _free(x0, y0, x1, y1) {
    for (let gx = Math.floor(x0 / GRID_PX); gx <= Math.floor(x1 / GRID_PX); gx++) {
      for (let gy = Math.floor(y0 / GRID_PX); gy <= Math.floor(y1 / GRID_PX); gy++) {
        const boxes = this.grid.get(gx * 65536 + gy);
        if (!boxes) continue;
        for (let k = 0; k < boxes.length; k += 4) {
          if (x0 < boxes[k + 2] && x1 > boxes[k] && y0 < boxes[k + 3] && y1 > boxes[k + 1]) {
            return false;
          }
        }
      }
    }
    return true;
  }

  _take(x0, y0, x1, y1) {
    for (let gx = Math.floor(x0 / GRID_PX); gx <= Math.floor(x1 / GRID_PX); gx++) {
      for (let gy = Math.floor(y0 / GRID_PX); gy <= Math.floor(y1 / GRID_PX); gy++) {
        const key = gx * 65536 + gy;
        let boxes = this.grid.get(key);
        if (!boxes) this.grid.set(key, (boxes = []));
        boxes.push(x0, y0, x1, y1);
      }
    }
  }

  _glyphs(o, inst, text, ox, oy) {
    let x = ox;
    for (let i = 0; i < text.length; i++) {
      let c = text.charCodeAt(i);
      if (c < FIRST || c > LAST) c = 63;                       // '?'
      if (this.n + 1 > this.data.length / GLYPH) this._grow();
      const d = this.data;
      const k = this.n * GLYPH;
      d[k] = inst[o];
      d[k + 1] = inst[o + 1];
      d[k + 2] = inst[o + 2];
      d[k + 3] = inst[o + 3];
      d[k + 4] = inst[o + 4];
      d[k + 5] = Math.round(x) - 2;                            // the atlas cell's left pad
      d[k + 6] = oy - CELL_H / 2;
      d[k + 7] = c - FIRST;
      d[k + 8] = CELL_W;
      this.n++;
      x += this.advance[c];
    }
  }

  _grow() {
    const d = new Float32Array(this.data.length * 2);
    d.set(this.data);
    this.data = d;
  }

  /**
   * Rebuilds the label instances: `candidates` are the slots on screen in priority order
   * with their screen position now ([slot, x, y] triples in one flat array),
   * `textOf(slot)` gives [line1, line2]; at most `limit` labels, none overlapping another
   * label or any symbol's square (`symbol_px` half size) — except the `pinned` slot's
   * (the selected aircraft), which always gets its label.
   */
  layout(store, candidates, count, textOf, limit, symbol_px, pinned = -1) {
    if (!this.tex) return 0;
    this.grid.clear();
    this.n = 0;
    let labels = 0;
    const inst = store.inst;
    // Every symbol on screen occupies its square first: a label may cover no symbol, so
    // where aircraft are dense there is no room and labels thin out by themselves.
    for (let k = 0; k < count; k++) {
      const x = candidates[3 * k + 1];
      const y = candidates[3 * k + 2];
      this._take(x - symbol_px, y - symbol_px, x + symbol_px, y + symbol_px);
    }
    for (let k = 0; k < count && labels < limit; k++) {
      const s = candidates[3 * k];
      const x = candidates[3 * k + 1];
      const y = candidates[3 * k + 2];
      const [a, b] = textOf(s);
      const w = Math.max(this._textWidth(a), this._textWidth(b));
      const ox = symbol_px + 4;
      const x0 = x + ox - 1;
      const y0 = y - LINE_PX;
      const x1 = x + ox + w + 1;
      const y1 = y + LINE_PX;
      if (s !== pinned && !this._free(x0, y0, x1, y1)) continue;
      this._take(x0, y0, x1, y1);
      const o = s * 8;
      this._glyphs(o, inst, a, ox, -LINE_PX / 2);
      if (b) this._glyphs(o, inst, b, ox, LINE_PX / 2);
      labels++;
    }
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.buf);
    if (this.data.length > this.capacity) {
      gl.bufferData(gl.ARRAY_BUFFER, this.data.byteLength, gl.DYNAMIC_DRAW);
      this.capacity = this.data.length;
    }
    if (this.n) gl.bufferSubData(gl.ARRAY_BUFFER, 0, this.data, 0, this.n * GLYPH);
    this.labels = labels;
    return labels;
  }

  /** Draws the labels laid out last (same matrix and time base as the aircraft). */
  draw(matrix, now_s, width_px, height_px) {
    if (this.n === 0 || !this.tex) return;
    const gl = this.gl;
    gl.useProgram(this.prog);
    gl.uniformMatrix4fv(this.u.u_matrix, false, matrix);
    gl.uniform1f(this.u.u_now, now_s);
    gl.uniform2f(this.u.u_px_to_clip, 2 / width_px, 2 / height_px);
    gl.uniform2f(this.u.u_atlas_cells, COLS, this.rows);
    gl.activeTexture(gl.TEXTURE0);
    gl.bindTexture(gl.TEXTURE_2D, this.tex);
    gl.uniform1i(this.u.u_atlas, 0);
    gl.bindVertexArray(this.vao);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, this.n);
    gl.bindVertexArray(null);
  }
}
