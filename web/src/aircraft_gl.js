/**
 * Instanced WebGL2 drawing of aircraft symbols: one draw call for every aircraft.
 *
 * Each aircraft is one instance of a 2-triangle quad (store.js `inst` layout, 8 floats).
 * The vertex shader does the per-frame work on the GPU, so a frame costs the CPU one
 * uniform upload and one draw call whatever the number of aircraft:
 *
 *   dt  = clamp(u_now − t_ref, 0, u_max_extrap)          dead reckoning since the update
 *   p   = (x, y) + (vx, vy) · dt                         mercator position now
 *   clip = M · (p, 0, 1)                                 MapLibre's mercator → clip matrix
 *   clip.xy += R(heading) · corner · size_px · (2 / viewport_px) · clip.w
 *
 * R rotates clockwise by the heading (north up: map rotation is disabled), so a symbol
 * points along its track. The fragment shader cuts an arrowhead out of the quad from edge
 * distances (filled for confirmed tracks, hollow for coasting ones, a dot when the heading
 * is unknown), colours it by altitude (ALT_STOPS, the legend shows the same ramp) and fades
 * it once its last update is older than STALE_AFTER_S (honest: extrapolated, not seen).
 */

import { linkProgram } from './gl_program.js';
import { INST, MAX_EXTRAPOLATION_S, STALE_AFTER_S } from './store.js';

/** Altitude colour ramp: [feet, [r, g, b]]; the legend is drawn from the same table. */
export const ALT_STOPS = [
  [0, [1.0, 0.55, 0.1]],
  [5000, [1.0, 0.85, 0.1]],
  [10000, [0.55, 0.9, 0.2]],
  [20000, [0.15, 0.85, 0.55]],
  [30000, [0.2, 0.6, 1.0]],
  [40000, [0.8, 0.4, 1.0]],
];
export const UNKNOWN_ALT_RGB = [0.72, 0.72, 0.72];

function rampGlsl() {
  const f = (v) => v.toFixed(3);
  let s = `vec3 altColor(float a) {\n  if (a < -9999.0) return vec3(${UNKNOWN_ALT_RGB.map(f)});\n`;
  s += `  if (a <= ${f(ALT_STOPS[0][0])}) return vec3(${ALT_STOPS[0][1].map(f)});\n`;
  for (let i = 1; i < ALT_STOPS.length; i++) {
    const [a0, c0] = ALT_STOPS[i - 1];
    const [a1, c1] = ALT_STOPS[i];
    s += `  if (a < ${f(a1)}) return mix(vec3(${c0.map(f)}), vec3(${c1.map(f)}), `
      + `(a - ${f(a0)}) / ${f(a1 - a0)});\n`;
  }
  return `${s}  return vec3(${ALT_STOPS[ALT_STOPS.length - 1][1].map(f)});\n}\n`;
}

const VERTEX = `#version 300 es
precision highp float;
layout(location = 0) in vec2 a_corner;
layout(location = 1) in vec4 a_pos_vel;
layout(location = 2) in vec4 a_misc;        // t_ref, heading, alt_ft, flags
uniform mat4 u_matrix;
uniform float u_now;
uniform vec2 u_px_to_clip;
uniform float u_size_px;
out vec2 v_uv;
out vec3 v_color;
out float v_alpha;
flat out int v_flags;
${rampGlsl()}
void main() {
  float age = u_now - a_misc.x;
  float dt = clamp(age, 0.0, ${MAX_EXTRAPOLATION_S.toFixed(1)});
  vec2 p = a_pos_vel.xy + a_pos_vel.zw * dt;
  vec4 c = u_matrix * vec4(p, 0.0, 1.0);
  int flags = int(a_misc.w + 0.5);
  float size = u_size_px * (((flags & 2) != 0) ? 1.5 : 1.0);
  float h = a_misc.y;
  float sh = sin(h);
  float ch = cos(h);
  vec2 r = vec2(a_corner.x * ch + a_corner.y * sh, -a_corner.x * sh + a_corner.y * ch);
  c.xy += r * size * u_px_to_clip * c.w;
  gl_Position = c;
  v_uv = a_corner;
  v_color = altColor(a_misc.z);
  v_alpha = age > ${STALE_AFTER_S.toFixed(1)} ? 0.45 : 1.0;
  v_flags = flags;
}`;

const FRAGMENT = `#version 300 es
precision mediump float;
in vec2 v_uv;
in vec3 v_color;
in float v_alpha;
flat in int v_flags;
out vec4 o_color;
// Signed distance (positive inside) to the line through a and b, inside on the left.
float edge(vec2 p, vec2 a, vec2 b) {
  vec2 d = normalize(b - a);
  vec2 q = p - a;
  return d.x * q.y - d.y * q.x;
}
void main() {
  vec2 p = v_uv;
  float d;
  if ((v_flags & 4) != 0) {
    d = 0.45 - length(p);                                   // no heading: a dot
  } else {
    vec2 nose = vec2(0.0, 1.0);
    vec2 left = vec2(-0.8, -0.85);
    vec2 right = vec2(0.8, -0.85);
    vec2 notch = vec2(0.0, -0.35);
    float body = min(min(edge(p, left, right), edge(p, right, nose)), edge(p, nose, left));
    // Above the roof left-notch-right (a union of two half-planes): the notch cut out.
    float cut = max(edge(p, left, notch), edge(p, notch, right));
    d = min(body, cut);
  }
  if (d < 0.0) discard;
  vec3 col = v_color;
  float a = v_alpha;
  if (d < 0.12) {
    col = vec3(0.05);                                       // dark outline for contrast
  } else if ((v_flags & 1) != 0 && d > 0.24) {
    discard;                                                // coasting: hollow
  }
  if ((v_flags & 2) != 0 && d < 0.12) col = vec3(1.0);      // selected: white outline
  o_color = vec4(col * a, a);                               // premultiplied alpha
}`;

/** GPU state for drawing aircraft instances into a WebGL2 context. */
export class AircraftRenderer {
  constructor(gl) {
    this.gl = gl;
    const prog = linkProgram(gl, VERTEX, FRAGMENT, 'aircraft');
    this.prog = prog;
    this.u = {};
    for (const name of ['u_matrix', 'u_now', 'u_px_to_clip', 'u_size_px']) {
      this.u[name] = gl.getUniformLocation(prog, name);
    }
    this.vao = gl.createVertexArray();
    gl.bindVertexArray(this.vao);
    const corners = new Float32Array([-1, -1, 1, -1, 1, 1, -1, -1, 1, 1, -1, 1]);
    this.cornerBuf = gl.createBuffer();
    gl.bindBuffer(gl.ARRAY_BUFFER, this.cornerBuf);
    gl.bufferData(gl.ARRAY_BUFFER, corners, gl.STATIC_DRAW);
    gl.enableVertexAttribArray(0);
    gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 8, 0);
    this.instBuf = gl.createBuffer();
    this.instCapacity = 0;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.instBuf);
    gl.enableVertexAttribArray(1);
    gl.vertexAttribPointer(1, 4, gl.FLOAT, false, INST * 4, 0);
    gl.vertexAttribDivisor(1, 1);
    gl.enableVertexAttribArray(2);
    gl.vertexAttribPointer(2, 4, gl.FLOAT, false, INST * 4, 16);
    gl.vertexAttribDivisor(2, 1);
    gl.bindVertexArray(null);
    this.n = 0;
  }

  /** Copies the first `n` instances of `inst` (Float32Array) to the GPU. */
  upload(inst, n) {
    const gl = this.gl;
    gl.bindBuffer(gl.ARRAY_BUFFER, this.instBuf);
    if (inst.length > this.instCapacity) {
      gl.bufferData(gl.ARRAY_BUFFER, inst.byteLength, gl.DYNAMIC_DRAW);
      this.instCapacity = inst.length;
    }
    if (n > 0) gl.bufferSubData(gl.ARRAY_BUFFER, 0, inst, 0, n * INST);
    this.n = n;
  }

  /**
   * Draws the uploaded instances. `matrix`: mercator → clip (Float32Array/Array of 16);
   * `now_s`: time in the instances' time base; `width_px`, `height_px`: the drawing
   * buffer in CSS pixels; `size_px`: half the symbol size.
   */
  draw(matrix, now_s, width_px, height_px, size_px) {
    if (this.n === 0) return;
    const gl = this.gl;
    gl.useProgram(this.prog);
    gl.uniformMatrix4fv(this.u.u_matrix, false, matrix);
    gl.uniform1f(this.u.u_now, now_s);
    gl.uniform2f(this.u.u_px_to_clip, 2 / width_px, 2 / height_px);
    gl.uniform1f(this.u.u_size_px, size_px);
    gl.bindVertexArray(this.vao);
    gl.enable(gl.BLEND);
    gl.blendFunc(gl.ONE, gl.ONE_MINUS_SRC_ALPHA);
    gl.disable(gl.DEPTH_TEST);
    gl.drawArraysInstanced(gl.TRIANGLES, 0, 6, this.n);
    gl.bindVertexArray(null);
  }
}
