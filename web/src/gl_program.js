/**
 * One WebGL2 helper shared by the instanced renderers (aircraft_gl.js, labels_gl.js):
 * compile a vertex and a fragment shader and link them into a program, throwing an Error
 * that names the renderer and carries the driver's log when either step fails.
 */

function compile(gl, type, src, what) {
  const sh = gl.createShader(type);
  gl.shaderSource(sh, src);
  gl.compileShader(sh);
  if (!gl.getShaderParameter(sh, gl.COMPILE_STATUS)) {
    throw new Error(`${what} shader: ${gl.getShaderInfoLog(sh)}`);
  }
  return sh;
}

/** The linked program of `vertexSrc` + `fragmentSrc`; `what` names it in errors. */
export function linkProgram(gl, vertexSrc, fragmentSrc, what) {
  const prog = gl.createProgram();
  gl.attachShader(prog, compile(gl, gl.VERTEX_SHADER, vertexSrc, what));
  gl.attachShader(prog, compile(gl, gl.FRAGMENT_SHADER, fragmentSrc, what));
  gl.linkProgram(prog);
  if (!gl.getProgramParameter(prog, gl.LINK_STATUS)) {
    throw new Error(`${what} program: ${gl.getProgramInfoLog(prog)}`);
  }
  return prog;
}
